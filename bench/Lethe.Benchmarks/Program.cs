using BenchmarkDotNet.Running;
using Lethe.Benchmarks.Workspaces;

// `-- gallery-load sqlite|postgres [duration]`: the Catalog API load benchmark (wrk against a started server).
if (args is ["gallery-load", .. var rest])
{
    return await Lethe.Benchmarks.Gallery.CatalogLoad.RunAsync(rest);
}
// `-- privacy-scale "Host=..." smallUsers largeUsers [rounds]`: one subject's find + export + erase on two platform sizes.
if (args is ["privacy-scale", .. var privacy])
{
    return await Lethe.Benchmarks.Privacy.SubjectAtScale.RunAsync(privacy);
}
// `-- privacy-bundle [blobs] [total MiB] [rounds]`: an export bundle of 1 GB of job outputs: peak memory and rate against a copy.
if (args is ["privacy-bundle", .. var bundle])
{
    return await Lethe.Benchmarks.Privacy.BundleBenchmark.RunAsync(bundle);
}
// `-- download-all artifacts megabytes rounds`: peak memory of a job's download-all (workspaces).
if (args.Length > 0 && args[0] == "download-all")
{
    return await DownloadAllBenchmark.RunAsync(args);
}
// `-- lab-export-sql ...`: the usage export's SELECT, for bench/lab-export.sh's baselines.
if (args is ["lab-export-sql", .. var sqlArgs])
{
    return Lethe.Benchmarks.Labs.LabExportSql.Run(sqlArgs);
}
// `-- lab-export-null SQLITEFILE [ROUNDS]`: the SQLite export's row path into Stream.Null.
if (args is ["lab-export-null", .. var nullArgs])
{
    return await Lethe.Benchmarks.Labs.LabExportNull.RunAsync(nullArgs);
}
// `-- lab-sweeps sqlite|"Host=..." [small] [large]`: auto-shutdown and cost accrual over a lab of 10,000 and 1,000,000 VMs (issue 14).
if (args is ["lab-sweeps", .. var sweeps])
{
    return await Lethe.Benchmarks.Labs.SweepScale.RunAsync(sweeps);
}
if (args is ["lab-sweeps-write", .. var lab])
{
    return await Lethe.Benchmarks.Labs.SweepScale.WriteAsync(lab);
}
if (args is ["lab-sweeps-one", .. var sweep])
{
    return await Lethe.Benchmarks.Labs.SweepScale.RunOneAsync(sweep);
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;

/// The benchmarks' entry point: `dotnet run -c Release --project bench/Lethe.Benchmarks -- --filter '*'`;
/// `-- download-all` runs the Workspaces download-all memory benchmark (docs/benchmarks.md).
public partial class Program;
