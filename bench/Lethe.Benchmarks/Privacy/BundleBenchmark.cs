using System.Globalization;
using Lethe.Blobs;
using Lethe.Privacy.Requests;
using Lethe.Workspaces;

namespace Lethe.Benchmarks.Privacy;

/// Issue 11's goal: the export bundle of a person with 1 GB of job outputs is written with peak memory under 150 MB,
/// at 50% or more of the rate of copying the same blobs in the same run.
///
/// Measured: <see cref="BundleWriter.WriteAsync"/>, the export's last step, which streams every blob of the person
/// (here 1 GB of outputs and logs of their jobs) and the staged data files into one zip, through a bounded pipe, into
/// the file-system blob store, hashing each file for the manifest. Baseline, in the same run and the same store:
/// copying the same blobs blob by blob (open, put), the least any bundle written to the store costs.
/// A program rather than a BenchmarkDotNet class: the quantity is the peak working set.
/// Run: <c>dotnet run -c Release --project bench/Lethe.Benchmarks -- privacy-bundle [blobs] [total MiB] [rounds]</c>.
public static class BundleBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var totalMiB = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1024;
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        var root = Path.Combine(Path.GetTempPath(), $"lethe-bench-bundle-{Guid.NewGuid():N}");
        var store = new FileSystemBlobStore(root, new BlobOptions(), TimeProvider.System);
        const string container = "benchbundle000001";
        try
        {
            var size = (long)totalMiB * 1024 * 1024 / count;
            Console.WriteLine($"Writing {count:N0} job outputs and logs of {size:N0} bytes ({totalMiB:N0} MiB) in 10 jobs to a file-system blob store under {Path.GetTempPath()}...");
            var blobs = await GenerateAsync(store, container, count, size);
            var request = new PrivacyRequest { Id = Guid.NewGuid(), SubjectHash = new string('0', 64), Type = PrivacyRequestType.Export };
            var work = await StageAsync(store, request.Id, blobs);
            Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} cores, {PeakMemory.Cpu()}, server GC {System.Runtime.GCSettings.IsServerGC}");
            Console.WriteLine("| Round | Method | Time | MiB/s | Allocated | Peak working set | Peak over start |");
            Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|");
            var copies = new List<PeakMeasurement>();
            var bundles = new List<PeakMeasurement>();
            for (var round = 1; round <= rounds; round++)
            {
                var copy = await PeakMemory.MeasureAsync(() => CopyAsync(store, blobs, round));
                copies.Add(copy);
                Print(round, "baseline: copy the blobs", copy, totalMiB);
                var bundle = await PeakMemory.MeasureAsync(async () =>
                {
                    var result = await new BundleWriter(store, request, work).WriteAsync(CancellationToken.None);
                    return result.Bytes;
                });
                bundles.Add(bundle);
                Print(round, "bundle (zip, hashed, to the store)", bundle, totalMiB);
                await store.PurgePrefixAsync("benchcopy", "", CancellationToken.None);
            }
            var copyTime = PeakMemory.Median(copies, m => m.Elapsed.TotalSeconds);
            var bundleTime = PeakMemory.Median(bundles, m => m.Elapsed.TotalSeconds);
            var rate = copyTime / bundleTime;
            var peak = bundles.Max(m => m.PeakWorkingSet);
            Console.WriteLine();
            Console.WriteLine($"Median time: copy {copyTime:F2} s ({totalMiB / copyTime:F0} MiB/s), bundle {bundleTime:F2} s ({totalMiB / bundleTime:F0} MiB/s): the bundle writes at {rate:P0} of the copy rate.");
            Console.WriteLine($"Max peak working set: copy {PeakMemory.Mb(copies.Max(m => m.PeakWorkingSet))}, bundle {PeakMemory.Mb(peak)} (over start: {PeakMemory.Mb(bundles.Max(m => m.PeakOverStart))}).");
            var pass = peak < 150L * 1024 * 1024 && rate >= 0.5;
            Console.WriteLine(pass ? "PASS: peak under 150 MB and at least 50% of the copy rate." : "FAIL: the goal is a peak under 150 MB and at least 50% of the copy rate.");
            return pass ? 0 : 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }


    private static async Task<List<BundleBlob>> GenerateAsync(FileSystemBlobStore store, string container, int count, long size)
    {
        var random = new Random(42);
        var chunk = new byte[1024 * 1024];
        var blobs = new List<BundleBlob>();
        for (var i = 0; i < count; i++)
        {
            // Half text-like (compressible) logs, half random (incompressible) outputs, as real jobs mix them.
            var job = $"bench_job_{i % 10}";
            var name = JobBlobs.Artifact(job, i % 2 == 0 ? $"logs/part-{i:D4}.log" : $"outputs/part-{i:D4}.bin");
            random.NextBytes(chunk);
            if (i % 2 == 0)
            {
                for (var k = 0; k < chunk.Length; k++)
                {
                    chunk[k] = (byte)('a' + (chunk[k] % 8));
                }
            }
            await using var content = new RepeatingStream(chunk, size);
            await store.PutAsync(container, name, content, null, CancellationToken.None);
            blobs.Add(new BundleBlob("Workspaces", "{storageAccount}/azureml/ExperimentRun/dcid.{jobId}/history.json", container, name, false, "An output or log of a job you submitted."));
        }
        return blobs;
    }

    /// The staged data files of an export of this person: a few small tables, as the location steps leave them.
    private static async Task<RequestWork> StageAsync(FileSystemBlobStore store, Guid requestId, List<BundleBlob> blobs)
    {
        var work = new RequestWork { AssembledAt = DateTimeOffset.UtcNow, Blobs = blobs };
        for (var i = 0; i < 20; i++)
        {
            var staged = $"{PrivacyBlobs.Staging(requestId)}{i:D3}.ndjson";
            var lines = string.Concat(Enumerable.Range(0, 50).Select(n => $$"""{"id":"{{Guid.NewGuid()}}","name":"record {{n}}","value":{{n}}}""" + "\n"));
            await store.PutAsync(PrivacyBlobs.Container, staged, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(lines)), null, CancellationToken.None);
            work.Files.Add(new StagedFile($"data/Bench/Table{i}", staged, 50, "table", "Bench", $"Table{i}", "Delete", "A table."));
        }
        return work;
    }

    private static async Task<long> CopyAsync(FileSystemBlobStore store, List<BundleBlob> blobs, int round)
    {
        long bytes = 0;
        foreach (var blob in blobs)
        {
            await using var source = await store.OpenReadAsync(blob.Container, blob.Name, CancellationToken.None);
            await using var counting = new CountingReadStream(source);
            await store.PutAsync("benchcopy", $"r{round}/{blob.Name}", counting, null, CancellationToken.None);
            bytes += counting.Count;
        }
        return bytes;
    }

    private static void Print(int round, string method, PeakMeasurement m, int totalMiB)
        => Console.WriteLine($"| {round} | {method} | {m.Elapsed.TotalSeconds:F2} s | {totalMiB / m.Elapsed.TotalSeconds:F0} | {m.Allocated / 1024.0 / 1024.0:N1} MiB | {PeakMemory.Mb(m.PeakWorkingSet)} | {PeakMemory.Mb(m.PeakOverStart)} |");

    private sealed class CountingReadStream(Stream inner) : Stream
    {
        public long Count { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Counted(await inner.ReadAsync(buffer, cancellationToken));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Counted(int read)
        {
            Count += read;
            return read;
        }
    }
}
