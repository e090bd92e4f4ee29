using System.Globalization;
using System.Text.Json;
using CsvHelper;
using Lethe.Blobs;
using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Labs;

/// Where an export goes when the caller gives a SAS URI: a container of another storage account.
/// Lethe.Blobs.Azure implements it with the Azure SDK, which the core does not reference.
public interface ISasContainerWriter
{
    /// Uploads <paramref name="content"/> as <paramref name="blobName"/> in the container the SAS URI
    /// names (or <paramref name="defaultContainer"/> for an account SAS URI), committed at the end only:
    /// readers never see a part of it. Storage errors throw <see cref="LabExportStorageException"/>.
    Task UploadAsync(Uri sasUri, string defaultContainer, string blobName, Stream content, CancellationToken ct);
}

/// A storage error while writing the export; its message (the storage service's error code and text) is safe to show.
public sealed class LabExportStorageException(string message, Exception? inner = null) : Exception(message, inner);

public sealed record LabUsageExportPayload(Guid LabId, DateTimeOffset? Start, DateTimeOffset End, string Folder, string? SasUri);

public sealed record LabUsageExportFile(string Name, long Rows, long Bytes);

public sealed record LabUsageExportResult(string Container, string Folder, string Destination, IReadOnlyList<LabUsageExportFile> Files);

/// Seed 002's exportLabResourceUsage: virtualmachines.csv and disks.csv of the resources that existed
/// in the window, to a SAS URI or to the lab's own storage. A durable job: each file is one checkpointed step.
public sealed class ExportLabUsage(LetheDb db, IBlobStore blobs, ISasContainerWriter sas) : IJobHandler
{
    public const string JobKind = "labs.export-usage";
    public const string Container = "labresourceusage";
    public const string VirtualMachinesFile = "virtualmachines.csv";
    public const string DisksFile = "disks.csv";

    public string Kind => JobKind;

    /// The decision: the window's start from <c>usageStartDate</c> (day granularity, midnight in the lab's
    /// time zone; a time part is ignored), or the problem with it. Null input means from the beginning.
    public static bool TryParseStart(string? usageStartDate, TimeZoneInfo zone, DateTimeOffset now, out DateTimeOffset? start, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(zone);
        start = null;
        problem = null;
        if (string.IsNullOrWhiteSpace(usageStartDate))
        {
            return true;
        }
        DateOnly day;
        if (DateOnly.TryParseExact(usageStartDate.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var exact))
        {
            day = exact;
        }
        else if (DateTimeOffset.TryParse(usageStartDate, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal, out var withTime))
        {
            // The date as written: a time part (and its offset) is ignored, as the seed says.
            day = DateOnly.FromDateTime(withTime.DateTime);
        }
        else
        {
            problem = "usageStartDate is not a date; use ISO 8601, e.g. 2026-11-01.";
            return false;
        }
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        if (day > today)
        {
            problem = "usageStartDate is in the future; the export covers the days from it to now.";
            return false;
        }
        start = MidnightIn(day, zone);
        return true;
    }

    public static DateTimeOffset MidnightIn(DateOnly day, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        // Midnight that does not exist (a DST jump at 00:00) is the first instant after it.
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(30);
        }
        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
    }

    /// The folder of one export: a later export never overwrites an earlier one.
    public static string FolderFor(Lab lab, DateTimeOffset? start, DateTimeOffset end, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var startPart = start is { } s ? DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(s, zone).DateTime).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "full";
        return $"{lab.Name}/{lab.Id:D}/{end.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}/{startPart}/";
    }

    /// The resources that existed at any time in the window.
    public static IQueryable<LabVirtualMachine> VirtualMachinesIn(LetheDb db, Guid labId, DateTimeOffset? start, DateTimeOffset end)
    {
        ArgumentNullException.ThrowIfNull(db);
        var query = db.LabVirtualMachines.AsNoTracking().Where(v => v.LabId == labId && v.CreatedAt <= end);
        return start is { } s ? query.Where(v => v.DeletedAt == null || v.DeletedAt >= s) : query;
    }

    public static IQueryable<LabDisk> DisksIn(LetheDb db, Guid labId, DateTimeOffset? start, DateTimeOffset end)
    {
        ArgumentNullException.ThrowIfNull(db);
        var query = db.LabDisks.AsNoTracking().Where(d => d.LabId == labId && d.CreatedAt <= end);
        return start is { } s ? query.Where(d => d.DeletedAt == null || d.DeletedAt >= s) : query;
    }

    /// Writes virtualmachines.csv of the window to <paramref name="destination"/>; returns the rows written.
    public static async Task<long> WriteVirtualMachinesAsync(LetheDb db, Lab lab, DateTimeOffset? start, DateTimeOffset end, Stream destination, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var rows = VirtualMachinesIn(db, lab.Id, start, end).OrderBy(v => v.CreatedAt).ThenBy(v => v.Id)
            .AsAsyncEnumerable().Select(v => LabUsageRows.ToRow(lab, v));
        await using var csv = CsvWriter.Create(destination, leaveOpen: true);
        await csv.WriteRecordsAsync(rows, ct);
        await csv.FlushAsync(ct);
        return csv.RecordCount - 1;
    }

    public static async Task<long> WriteDisksAsync(LetheDb db, Lab lab, DateTimeOffset? start, DateTimeOffset end, Stream destination, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var rows = DisksIn(db, lab.Id, start, end).OrderBy(d => d.CreatedAt).ThenBy(d => d.Id)
            .Select(d => new { Disk = d, VmName = db.LabVirtualMachines.Where(v => v.Id == d.LeasedByVmId).Select(v => v.Name).FirstOrDefault() })
            .AsAsyncEnumerable().Select(x => LabUsageRows.ToRow(lab, x.Disk, x.VmName));
        await using var csv = CsvWriter.Create(destination, leaveOpen: true);
        await csv.WriteRecordsAsync(rows, ct);
        await csv.FlushAsync(ct);
        return csv.RecordCount - 1;
    }

    private sealed record Checkpoint(List<LabUsageExportFile> Done);

    public async Task RunAsync(JobContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var payload = context.ReadPayload<LabUsageExportPayload>();
        var lab = await db.Labs.AsNoTracking().FirstOrDefaultAsync(l => l.Id == payload.LabId, ct)
            ?? throw new InvalidOperationException("The lab was deleted before its usage export ran.");
        var done = context.Job.Checkpoint is { } json ? JsonSerializer.Deserialize<Checkpoint>(json, JobQueue.Json)!.Done : [];
        // Both files are written to local temporary files first: only complete files are uploaded,
        // and each upload is committed at its end, so no part of a file is ever visible.
        var steps = new (string Name, Func<Stream, Task<long>> Write)[]
        {
            (VirtualMachinesFile, s => WriteVirtualMachinesAsync(db, lab, payload.Start, payload.End, s, ct)),
            (DisksFile, s => WriteDisksAsync(db, lab, payload.Start, payload.End, s, ct)),
        };
        foreach (var (name, write) in steps)
        {
            if (done.Any(f => f.Name == name))
            {
                continue;
            }
            var path = Path.GetTempFileName();
            try
            {
                await using var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
                var rows = await write(file);
                var bytes = file.Length;
                file.Position = 0;
                var blobName = payload.Folder + name;
                if (payload.SasUri is { } uri)
                {
                    await sas.UploadAsync(new Uri(uri), Container, blobName, file, ct);
                }
                else
                {
                    await blobs.PutAsync(Container, blobName, file, "text/csv", ct);
                }
                done.Add(new LabUsageExportFile(name, rows, bytes));
            }
            finally
            {
                File.Delete(path);
            }
            await context.CheckpointAsync(JsonSerializer.Serialize(new Checkpoint(done), JobQueue.Json), 50 * done.Count, ct);
        }
        var result = new LabUsageExportResult(Container, payload.Folder, payload.SasUri is null ? "lab" : "sas", done);
        context.SetResult(JsonSerializer.Serialize(result, JobQueue.Json));
    }

    /// Queues the export; the caller has checked access, the SAS URI and the dates.
    public static async Task<Job> EnqueueAsync(LetheDb db, Lab lab, DateTimeOffset? start, DateTimeOffset end, string? sasUri, Guid requestedBy, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(lab);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(lab.TimeZoneId);
        var payload = new LabUsageExportPayload(lab.Id, start, end, FolderFor(lab, start, end, zone), sasUri);
        // A storage error is rarely cured by waiting: one more attempt (which also resumes after a
        // crash from the last checkpoint), then Failed with the storage error.
        var job = JobQueue.Add(db, JobKind, JsonSerializer.Serialize(payload, JobQueue.Json), requestedBy, lab.ResourceId.Value, clock, maxAttempts: 2);
        await db.SaveChangesAsync(ct);
        return job;
    }
}
