using System.Globalization;
using Lethe.Labs;
using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;

namespace Lethe.Benchmarks.Labs;

/// `-- lab-export-sql postgres|sqlite vm|disks SUBSCRIPTION GROUP LAB LABID END`: prints the SELECT the usage
/// export runs, so that bench/lab-export.sh gives its baselines (psql \copy, sqlite3 -csv) the very same query.
/// For SQLite the statement's parameters are written in as literals (the lab's ID in upper case, the window's
/// end in the stored form of a DateTimeOffset, no start).
internal static class LabExportSql
{
    public static int Run(string[] args)
    {
        if (args is not [var provider, var file, var subscription, var group, var name, var labId, var end])
        {
            Console.Error.WriteLine("usage: lab-export-sql postgres|sqlite vm|disks SUBSCRIPTION GROUP LAB LABID END");
            return 2;
        }
        var lab = new Lab
        {
            Id = Guid.Parse(labId), SubscriptionId = Guid.Parse(subscription), ResourceGroup = group, ResourceGroupKey = group.ToLowerInvariant(),
            Name = name, NameKey = name.ToLowerInvariant(), ScopeKey = "", Location = "", TimeZoneId = "UTC",
        };
        var endTime = DateTimeOffset.Parse(end, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var query = LabUsageQuery.For(lab, file == "vm" ? LabUsageFile.VirtualMachines : LabUsageFile.Disks, null, endTime);
        if (provider == "postgres")
        {
            Console.WriteLine(PostgresLabUsageCsv.Select(query).ReplaceLineEndings(" "));
            return 0;
        }
        var stored = ((endTime.UtcTicks / 1000) << 11).ToString(CultureInfo.InvariantCulture);
        Console.WriteLine(SqliteLabUsageCsv.Select(query).ReplaceLineEndings(" ")
            .Replace("?1", "'" + lab.Id.ToString("D").ToUpperInvariant() + "'", StringComparison.Ordinal)
            .Replace("?2", stored, StringComparison.Ordinal)
            .Replace("?3", "NULL", StringComparison.Ordinal) + ";");
        return 0;
    }
}
