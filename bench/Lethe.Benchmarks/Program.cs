using BenchmarkDotNet.Running;
using Lethe.Benchmarks.Workspaces;

if (args.Length > 0 && args[0] == "download-all")
{
    return await DownloadAllBenchmark.RunAsync(args);
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;

/// The benchmarks' entry point: `dotnet run -c Release --project bench/Lethe.Benchmarks -- --filter '*'`;
/// `-- download-all` runs the Workspaces download-all memory benchmark (docs/benchmarks.md).
public partial class Program;
