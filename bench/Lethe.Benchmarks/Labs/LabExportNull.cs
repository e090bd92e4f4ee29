using System.Diagnostics;
using Lethe.Labs;
using Lethe.Storage.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Benchmarks.Labs;

/// `-- lab-export-null SQLITEFILE [ROUNDS]`: the SQLite export's row path alone: both files of the file's one lab
/// read into Stream.Null, timed; for comparing with `sqlite3 -csv` of the same SELECT to /dev/null.
internal static class LabExportNull
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = (DbContextOptions<LetheDb>)new DbContextOptionsBuilder<LetheDb>().UseLetheSqlite($"Data Source={args[0]};Pooling=False").Options;
        var rounds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3;
        var buffer = new byte[81920];
        for (var round = 0; round < rounds; round++)
        {
            await using var db = new LetheDb(options);
            var lab = await db.Labs.AsNoTracking().SingleAsync();
            foreach (var file in new[] { LabUsageFile.VirtualMachines, LabUsageFile.Disks })
            {
                var watch = Stopwatch.StartNew();
                await using var csv = await new SqliteLabUsageCsv().OpenAsync(db, LabUsageQuery.For(lab, file, null, DateTimeOffset.UtcNow), CancellationToken.None);
                int n;
                while ((n = await csv.ReadAsync(buffer)) > 0)
                {
                }
                Console.WriteLine($"{file}: {csv.Rows} rows, {csv.Bytes} bytes in {watch.Elapsed.TotalSeconds:0.00}s");
            }
        }
        return 0;
    }
}
