using System.Diagnostics;

namespace Lethe.Benchmarks;

/// One measured run: wall time, bytes allocated, and the process's peak working set (and its rise over the start).
public sealed record PeakMeasurement(TimeSpan Elapsed, long Bytes, long Allocated, long PeakWorkingSet, long PeakOverStart);

/// What the memory benchmarks share: a run measured by sampling the process's working set every 5 ms (BenchmarkDotNet
/// reports allocations, not the peak), medians, and the machine's line for the report.
internal static class PeakMemory
{
    /// <paramref name="work"/> returns the bytes it produced.
    public static async Task<PeakMeasurement> MeasureAsync(Func<Task<long>> work)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var start = process.WorkingSet64;
        var peak = start;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var self = Process.GetCurrentProcess();
            while (!stop.IsCancellationRequested)
            {
                self.Refresh();
                peak = Math.Max(peak, self.WorkingSet64);
                await Task.Delay(5, CancellationToken.None);
            }
        });
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        var bytes = await work();
        watch.Stop();
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        await stop.CancelAsync();
        await sampler;
        return new PeakMeasurement(watch.Elapsed, bytes, allocated, peak, peak - start);
    }

    public static string Mb(long bytes) => $"{bytes / 1024.0 / 1024.0:N1} MiB";

    public static double Median(IEnumerable<PeakMeasurement> list, Func<PeakMeasurement, double> value)
    {
        var sorted = list.Select(value).Order().ToList();
        return sorted[sorted.Count / 2];
    }

    public static string Cpu()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }
}
