using System.Diagnostics;
using System.Globalization;
using Lethe.Blobs;
using Lethe.Labs;
using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Benchmarks.Labs;

/// `-- lab-export-null sqlite FILE|postgres CONNECTIONSTRING [ROUNDS] [STOREDIR]`: the usage export's row path alone,
/// both files of the database's one lab read into Stream.Null (or, with STOREDIR, put into a file-system blob store
/// there, as the export job does), timed; for comparing with `sqlite3 -csv` / `psql \copy` of the same SELECT.
internal static class LabExportNull
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = new DbContextOptionsBuilder<LetheDb>();
        ILabUsageCsvSource source;
        if (args[0] == "postgres")
        {
            builder.UseLethePostgres(args[1]);
            source = new PostgresLabUsageCsv();
        }
        else
        {
            builder.UseLetheSqlite($"Data Source={args[1]};Pooling=False");
            source = new SqliteLabUsageCsv();
        }
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        var store = args.Length > 3 ? new FileSystemBlobStore(args[3], new BlobOptions(), TimeProvider.System) : null;
        var buffer = new byte[81920];
        for (var round = 0; round < rounds; round++)
        {
            await using var db = new LetheDb(builder.Options);
            var lab = await db.Labs.AsNoTracking().SingleAsync();
            var total = Stopwatch.StartNew();
            foreach (var file in new[] { LabUsageFile.VirtualMachines, LabUsageFile.Disks })
            {
                var watch = Stopwatch.StartNew();
                await using var csv = await source.OpenAsync(db, LabUsageQuery.For(lab, file, null, DateTimeOffset.UtcNow.AddDays(1)), CancellationToken.None);
                if (store is not null)
                {
                    await store.PutAsync("bench", $"r{round}/{file}.csv", csv, "text/csv", CancellationToken.None);
                }
                else
                {
                    while (await csv.ReadAsync(buffer) > 0)
                    {
                    }
                }
                Console.WriteLine($"{file}: {csv.Rows} rows, {csv.Bytes} bytes in {watch.Elapsed.TotalSeconds:0.00}s");
            }
            Console.WriteLine($"round {round + 1}: {total.Elapsed.TotalSeconds:0.00}s");
        }
        return 0;
    }
}
