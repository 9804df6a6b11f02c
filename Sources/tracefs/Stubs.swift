import ArgumentParser
struct FuncCount: AsyncParsableCommand {}
struct FuncLatency: AsyncParsableCommand {}
struct Hist: AsyncParsableCommand {}
struct SQL: AsyncParsableCommand {}
