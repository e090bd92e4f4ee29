using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// The benchmarks' entry point: `dotnet run -c Release --project bench/Lethe.Benchmarks -- --filter '*'`.
public partial class Program;
