using System.Text;
using BenchmarkDotNet.Attributes;
using CsvHelper;
using Lethe.Labs;
using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Benchmarks.Labs;

/// Hypothesis (issue 14): the usage export's row path allocates under 300 bytes per VM + disk pair once the
/// database formats the rows (SQLite: the statement stepped on the raw handle, the bytes copied into the output
/// buffer; PostgreSQL: COPY's bytes passed through the LF-to-CRLF transform), where materializing entities,
/// building row records and writing them with CsvHelper allocated kilobytes per pair. Baseline, in the same run:
/// that entity path over the same SQLite file. Allocated / op divided by <see cref="Pairs"/> is the figure.
[MemoryDiagnoser]
public class UsageCsvBenchmarks
{
    public const int Pairs = 20_000;

    private string _file = "";
    private DbContextOptions<LetheDb> _options = null!;
    private Lab _lab = null!;
    private byte[] _copyOutput = [];
    private readonly byte[] _buffer = new byte[1 << 16];

    [GlobalSetup]
    public void Setup()
    {
        _file = Path.Combine(AppContext.BaseDirectory, $"lethe-usage-bench-{Environment.ProcessId}.db");
        File.Delete(_file);
        _options = (DbContextOptions<LetheDb>)new DbContextOptionsBuilder<LetheDb>().UseLetheSqlite($"Data Source={_file};Pooling=False").Options;
        using var db = new LetheDb(_options);
        db.Database.Migrate();
        // The same shape as bench/lab-export.sh's data: one lab, VMs and disks, half the disks attached.
        db.Database.ExecuteSql($"""
            INSERT INTO "Subscriptions" ("Id","DisplayName","CreatedAt") VALUES ('5C9D3B7E-1F2A-4C6D-9E8B-0A1B2C3D4E5F','bench',0);
            INSERT INTO "ResourceGroups" ("SubscriptionId","NameKey","Name","Location","CreatedAt") VALUES ('5C9D3B7E-1F2A-4C6D-9E8B-0A1B2C3D4E5F','labs-rg','labs-rg','westeurope',0);
            INSERT INTO "Labs" ("Id","SubscriptionId","ResourceGroup","ResourceGroupKey","Name","NameKey","Location","CreatedAt","ScopeKey","TimeZoneId","AnonymizeAfterDays","ShutdownNoticeMinutes")
              VALUES ('4A3B2C1D-0E9F-4A8B-9C7D-6E5F4A3B2C1D','5C9D3B7E-1F2A-4C6D-9E8B-0A1B2C3D4E5F','labs-rg','labs-rg','bench-lab','bench-lab','westeurope',0,'x','UTC',30,30);
            INSERT INTO "LabVirtualMachines" ("Id","LabId","Name","NameKey","CreatedAt","DeletedAt","OwnerObjectId","PricingTier","Claimable",
                                              "ImagePublisher","ImageOffer","ImageSku","ImageOsType","ImageVersion","Running")
              WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {Pairs})
              SELECT printf('%08X-0000-4000-8000-%012X', i, i), '4A3B2C1D-0E9F-4A8B-9C7D-6E5F4A3B2C1D', printf('vm-%07d', i), printf('vm-%07d', i),
                     ((62135596800 + 1735689600 + i * 20) * 10000000) / 1000 << 11,
                     CASE WHEN i % 3 = 0 THEN ((62135596800 + 1735689600 + i * 20 + 864000) * 10000000) / 1000 << 11 END,
                     CASE WHEN i % 10 <> 0 THEN printf('%08X-0002-4000-8000-000000000000', i % 5000) END,
                     CASE WHEN i % 50 = 0 THEN 'Standard, "promo"' ELSE 'Standard_B2s' END, i % 10 = 0,
                     'Canonical', 'ubuntu-24_04-lts', 'server', 'Linux', 'latest', 1
              FROM s;
            INSERT INTO "LabDisks" ("Id","LabId","Name","NameKey","CreatedAt","OwnerObjectId","SizeGb","DiskType","BlobName","LeasedByVmId")
              WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {Pairs})
              SELECT printf('%08X-0001-4000-8000-%012X', i, i), '4A3B2C1D-0E9F-4A8B-9C7D-6E5F4A3B2C1D', printf('disk-%07d', i), printf('disk-%07d', i),
                     ((62135596800 + 1735689600 + i * 20) * 10000000) / 1000 << 11, printf('%08X-0002-4000-8000-000000000000', i % 5000),
                     128, i % 2, printf('disks/disk-%07d.vhd', i), CASE WHEN i % 2 = 0 THEN printf('%08X-0000-4000-8000-%012X', i, i) END
              FROM s;
            """);
        _lab = db.Labs.AsNoTracking().Single();
        // What PostgreSQL's COPY sends for the same rows: the SQLite path's output with LF line ends.
        using var output = new MemoryStream();
        Copy(db, new SqliteLabUsageCsv(), LabUsageFile.VirtualMachines, output);
        _copyOutput = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(output.ToArray()).Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(_file);
    }

    private static DateTimeOffset End => new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private void Copy(LetheDb db, SqliteLabUsageCsv source, LabUsageFile file, Stream destination)
    {
        using var csv = source.OpenAsync(db, LabUsageQuery.For(_lab, file, null, End), CancellationToken.None).GetAwaiter().GetResult();
        int n;
        while ((n = csv.Read(_buffer)) > 0)
        {
            destination.Write(_buffer, 0, n);
        }
    }

    [Benchmark(Baseline = true, Description = "entities + row records + CsvHelper (before)")]
    public long Entities()
    {
        using var db = new LetheDb(_options);
        using var output = new CountingStream();
        using (var csv = CsvWriter.Create(output, leaveOpen: true))
        {
            csv.WriteRecords(db.LabVirtualMachines.AsNoTracking().Where(v => v.LabId == _lab.Id).OrderBy(v => v.CreatedAt).ThenBy(v => v.Id)
                .AsEnumerable().Select(v => LabUsageRows.ToRow(_lab, v)));
        }
        using (var csv = CsvWriter.Create(output, leaveOpen: true))
        {
            csv.WriteRecords(db.LabDisks.AsNoTracking().Where(d => d.LabId == _lab.Id).OrderBy(d => d.CreatedAt).ThenBy(d => d.Id)
                .Select(d => new { Disk = d, VmName = db.LabVirtualMachines.Where(v => v.Id == d.LeasedByVmId).Select(v => v.Name).FirstOrDefault() })
                .AsEnumerable().Select(x => LabUsageRows.ToRow(_lab, x.Disk, x.VmName)));
        }
        return output.Length;
    }

    [Benchmark(Description = "SQLite statement on the raw handle (export)")]
    public long SqliteRows()
    {
        using var db = new LetheDb(_options);
        using var output = new CountingStream();
        var source = new SqliteLabUsageCsv();
        Copy(db, source, LabUsageFile.VirtualMachines, output);
        Copy(db, source, LabUsageFile.Disks, output);
        return output.Length;
    }

    [Benchmark(Description = "PostgreSQL COPY bytes, LF to CRLF (export, VMs only)")]
    public long PostgresCopyTransform()
    {
        var state = default(CrLfState);
        var total = 0L;
        var pos = 0;
        while (pos < _copyOutput.Length || state.PendingLf)
        {
            var piece = _copyOutput.AsSpan(pos, Math.Min(1 << 16, _copyOutput.Length - pos));
            total += CrLf.Transform(piece, _buffer, ref state, out var consumed);
            pos += consumed;
        }
        return total;
    }

    /// Counts what is written and keeps none of it: the destination's own cost stays out of the figures.
    private sealed class CountingStream : Stream
    {
        private long _length;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
    }
}
