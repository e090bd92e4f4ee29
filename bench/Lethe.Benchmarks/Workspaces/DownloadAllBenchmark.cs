using System.Globalization;
using Lethe.Blobs;
using Lethe.Workspaces;

namespace Lethe.Benchmarks.Workspaces;

/// Hypothesis (issue 3): "Download all" of a job streams its zip, so peak memory stays under 100 MB
/// however large the job: 1,000 artifacts totalling 1 GB here.
/// Baseline, in the same run: copying the same blobs to the same counting stream without zipping (the
/// least any download of those bytes costs). Measured: <see cref="ArtifactArchive.WriteJobAsync"/>, the
/// code the API's and the portal's Download all run, writing to a non-seekable counting stream.
/// A program rather than a BenchmarkDotNet class: BenchmarkDotNet reports allocated bytes but not the
/// peak working set, which is the quantity of the hypothesis. Run:
/// `dotnet run -c Release --project bench/Lethe.Benchmarks -- download-all [artifacts] [total MiB] [rounds]`.
public static class DownloadAllBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
        var totalMiB = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1024;
        var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3;
        var root = Path.Combine(Path.GetTempPath(), $"lethe-bench-download-{Guid.NewGuid():N}");
        IBlobStore store = new FileSystemBlobStore(root, new BlobOptions(), TimeProvider.System);
        const string container = "benchws0000000001";
        const string jobId = "bench_job";
        try
        {
            var size = (long)totalMiB * 1024 * 1024 / count;
            Console.WriteLine($"Writing {count:N0} artifacts of {size:N0} bytes ({totalMiB:N0} MiB) to a file-system blob store...");
            await GenerateAsync(store, container, jobId, count, size);
            Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} cores, {PeakMemory.Cpu()}");
            Console.WriteLine("| Round | Method | Time | Bytes out | Allocated | Peak working set | Peak over start |");
            Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|");
            var results = new List<(string Method, PeakMeasurement M)>();
            for (var round = 1; round <= rounds; round++)
            {
                var baseline = await MeasureAsync(output => CopyAllAsync(store, container, jobId, output));
                results.Add(("baseline: copy without zip", baseline));
                Print(round, "baseline: copy without zip", baseline);
                var zip = await MeasureAsync(output => ArtifactArchive.WriteJobAsync(store, container, jobId, output, null, CancellationToken.None));
                results.Add(("download all (zip)", zip));
                Print(round, "download all (zip)", zip);
            }
            var b = results.Where(r => r.Method.StartsWith("baseline", StringComparison.Ordinal)).Select(r => r.M).ToList();
            var z = results.Where(r => r.Method.StartsWith("download", StringComparison.Ordinal)).Select(r => r.M).ToList();
            Console.WriteLine();
            Console.WriteLine($"Median time: baseline {PeakMemory.Median(b, m => m.Elapsed.TotalSeconds):F2} s, zip {PeakMemory.Median(z, m => m.Elapsed.TotalSeconds):F2} s, ratio {PeakMemory.Median(z, m => m.Elapsed.TotalSeconds) / PeakMemory.Median(b, m => m.Elapsed.TotalSeconds):F2}");
            Console.WriteLine($"Max peak working set: baseline {PeakMemory.Mb(b.Max(m => m.PeakWorkingSet))}, zip {PeakMemory.Mb(z.Max(m => m.PeakWorkingSet))}, ratio {(double)z.Max(m => m.PeakWorkingSet) / b.Max(m => m.PeakWorkingSet):F2}");
            Console.WriteLine($"Max peak over start: baseline {PeakMemory.Mb(b.Max(m => m.PeakOverStart))}, zip {PeakMemory.Mb(z.Max(m => m.PeakOverStart))}");
            var pass = z.Max(m => m.PeakWorkingSet) < 100L * 1024 * 1024;
            Console.WriteLine(pass ? "PASS: peak working set under 100 MB." : "FAIL: peak working set reached 100 MB or more.");
            return pass ? 0 : 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }


    private static async Task GenerateAsync(IBlobStore store, string container, string jobId, int count, long size)
    {
        var random = new Random(42);
        var chunk = new byte[1024 * 1024];
        for (var i = 0; i < count; i++)
        {
            // Half text-like (compressible) logs, half random (incompressible) outputs, as real jobs mix them.
            var name = i % 2 == 0 ? $"logs/part-{i:D4}.log" : $"outputs/part-{i:D4}.bin";
            random.NextBytes(chunk);
            if (i % 2 == 0)
            {
                for (var k = 0; k < chunk.Length; k++)
                {
                    chunk[k] = (byte)('a' + (chunk[k] % 8));
                }
            }
            await using var content = new RepeatingStream(chunk, size);
            await store.PutAsync(container, JobBlobs.Artifact(jobId, name), content, null, CancellationToken.None);
        }
    }

    private static async Task<int> CopyAllAsync(IBlobStore store, string container, string jobId, Stream output)
    {
        var n = 0;
        foreach (var sub in new[] { "logs/", "outputs/" })
        {
            await foreach (var blob in store.ListAsync(container, JobBlobs.Folder(jobId) + sub, CancellationToken.None))
            {
                await using var source = await store.OpenReadAsync(container, blob.Name, CancellationToken.None);
                await source.CopyToAsync(output, 81920);
                n++;
            }
        }
        return n;
    }

    private static Task<PeakMeasurement> MeasureAsync(Func<Stream, Task<int>> work) => PeakMemory.MeasureAsync(async () =>
    {
        var output = new CountingStream();
        await work(output);
        return output.Count;
    });

    private static void Print(int round, string method, PeakMeasurement m)
        => Console.WriteLine($"| {round} | {method} | {m.Elapsed.TotalSeconds:F2} s | {m.Bytes / 1024.0 / 1024.0:N0} MiB | {m.Allocated / 1024.0 / 1024.0:N1} MiB | {PeakMemory.Mb(m.PeakWorkingSet)} | {PeakMemory.Mb(m.PeakOverStart)} |");

    /// The response body stand-in: counts what is written, keeps nothing, cannot seek (as a response cannot).
    private sealed class CountingStream : Stream
    {
        public long Count { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Count += count;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Count += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}
