import Foundation
import ArgumentParser
import ExporterCore
import Hummingbird
import Logging
import ServiceLifecycle
import TraceFS

@main
struct TraceFSExporter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracefs-exporter",
        abstract: "Serves kprobe and uprobe metrics for Prometheus, counted by the kernel (tracefs alone).",
        discussion: """
            Creates the probes and hist triggers of a YAML configuration, and at each scrape renders
            the kernel's own counts (kprobe_profile, uprobe_profile, hist tables) as Prometheus metrics.
            SIGTERM and SIGINT remove everything it made; at start it removes what killed runs left.

              tracefs-exporter --config /etc/tracefs-exporter.yaml
              tracefs-exporter --config malloc.yaml --listen 127.0.0.1:9435 --path /metrics
              tracefs-exporter --config malloc.yaml --check
            """)

    @Option(help: "The YAML configuration file.")
    var config: String

    @Option(help: "The address and port to serve on.")
    var listen = "127.0.0.1:9435"

    @Option(help: "The HTTP path of the metrics.")
    var path = "/metrics"

    @Flag(help: "Check the configuration (syntax, probes, symbols) without touching the kernel, then exit.")
    var check = false

    /// ArgumentParser's `main`, with the signal handlers installed before anything else runs.
    static func main() async {
        TerminationSignals.install()
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    func validate() throws {
        guard Self.hostAndPort(listen) != nil else { throw ValidationError("--listen is HOST:PORT, such as 127.0.0.1:9435") }
        guard path.hasPrefix("/"), !path.contains(where: { $0.isWhitespace }) else {
            throw ValidationError("--path is an absolute URL path, such as /metrics")
        }
    }

    static func hostAndPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    func run() async throws {
        var logger = Logger(label: "tracefs-exporter")
        logger.logLevel = .info
        let loaded: ExporterConfig
        do {
            let loader = try ConfigLoader(file: config)
            loaded = try loader.load()
            if check {
                print("\(config): valid (\(loaded.probes.count) probes, "
                      + "\(loaded.metrics.counters.count + loaded.metrics.histograms.count) metrics)")
                return
            }
            let missing = ExporterRuntime.missingFeatures(loaded, capabilities: try TracingCapabilities.current(), loader: loader)
            if !missing.isEmpty {
                for error in missing { printError("\(error)") }
                throw ExitCode(2)
            }
        } catch let error as ConfigError {
            printError("\(error)")
            throw ExitCode(2)
        }

        // SIGTERM and SIGINT are caught from the start (see TerminationSignals): the sessions
        // end on the paths below, also when a signal comes while the probes are being made.
        do {
            let report = try TraceSession.removeOrphans()
            if !report.groups.isEmpty || !report.instances.isEmpty {
                logger.info("removed what killed runs left", metadata: [
                    "groups": "\(report.groups)", "instances": "\(report.instances)", "events": "\(report.events)"])
            }
        } catch {
            logger.warning("could not remove all leftovers of killed runs", metadata: ["error": "\(error)"])
        }
        if let signal = TerminationSignals.received {
            logger.info("stopped before arming", metadata: ["signal": "\(signal)"])
            return
        }
        let runtime = ExporterRuntime(config: loaded, logger: logger)
        do {
            try runtime.arm()
        } catch {
            printError("tracefs-exporter: \(error)")
            throw ExitCode(1)
        }
        if let signal = TerminationSignals.received {
            logger.info("stopped while arming", metadata: ["signal": "\(signal)"])
            do { try runtime.shutdown() } catch {
                printError("tracefs-exporter: could not remove everything: \(error)")
                throw ExitCode(1)
            }
            return
        }

        let router = Router()
        router.get(RouterPath(path)) { _, _ -> Response in
            let text = runtime.scrape()
            return Response(status: .ok, headers: [.contentType: Exposition.contentType],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        let (host, port) = Self.hostAndPort(listen) ?? ("127.0.0.1", 9435)
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
        // The signals reach the group through TerminationSignals.Service: its return shuts the
        // group down gracefully (the server stops, then the cleanup below runs).
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: app),
                       .init(service: TerminationSignals.Service(), successTerminationBehavior: .gracefullyShutdownGroup)],
            logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("server stopped", metadata: ["error": "\(error)"])
            try? runtime.shutdown()
            throw ExitCode(1)
        }
        do {
            try runtime.shutdown()
        } catch {
            printError("tracefs-exporter: could not remove everything: \(error)")
            throw ExitCode(1)
        }
    }

    private func printError(_ text: String) {
        var standardError = StandardError()
        print(text, to: &standardError)
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
