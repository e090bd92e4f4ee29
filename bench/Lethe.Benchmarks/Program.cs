using BenchmarkDotNet.Running;

// `-- gallery-load sqlite|postgres [duration]`: the Catalog API load benchmark (wrk against a started server).
if (args is ["gallery-load", .. var rest])
{
    return await Lethe.Benchmarks.Gallery.CatalogLoad.RunAsync(rest);
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;

/// The benchmarks' entry point: `dotnet run -c Release --project bench/Lethe.Benchmarks -- --filter '*'`.
public partial class Program;
