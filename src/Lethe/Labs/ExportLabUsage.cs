using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Lethe.Blobs;
using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

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

/// <paramref name="SasUriDropped"/>: the export ended and its SAS URI (a credential) was dropped from the stored payload.
public sealed record LabUsageExportPayload(Guid LabId, DateTimeOffset? Start, DateTimeOffset End, string Folder, string? SasUri, bool SasUriDropped = false);

public sealed record LabUsageExportFile(string Name, long Rows, long Bytes);

public sealed record LabUsageExportResult(string Container, string Folder, string Destination, IReadOnlyList<LabUsageExportFile> Files);

/// Seed 002's exportLabResourceUsage: virtualmachines.csv and disks.csv of the resources that existed
/// in the window, to a SAS URI or to the lab's own storage. A durable job: both files at once, then one checkpoint.
public sealed class ExportLabUsage(LetheDb db, IBlobStore blobs, ISasContainerWriter sas, ILabUsageCsvSource source, IServiceScopeFactory scopes) : IJobHandler
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

    private sealed record Checkpoint(List<LabUsageExportFile> Done);

    /// The SAS URI grants write access to someone's storage: once the export has ended it is not kept.
    public string? PayloadWhenEnded(string payload)
    {
        var stored = JsonSerializer.Deserialize<LabUsageExportPayload>(payload, JobQueue.Json);
        return stored?.SasUri is null ? null : JsonSerializer.Serialize(stored with { SasUri = null, SasUriDropped = true }, JobQueue.Json);
    }

    public async Task RunAsync(JobContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var payload = context.ReadPayload<LabUsageExportPayload>();
        if (payload.SasUriDropped)
        {
            throw new InvalidOperationException("This export ended and its SAS URI is no longer kept: ask for a new export with a SAS URI.");
        }
        var lab = await db.Labs.AsNoTracking().FirstOrDefaultAsync(l => l.Id == payload.LabId, ct)
            ?? throw new InvalidOperationException("The lab was deleted before its usage export ran.");
        var done = context.Job.Checkpoint is { } json ? JsonSerializer.Deserialize<Checkpoint>(json, JobQueue.Json)!.Done : [];
        // Both files at once, each on a connection of its own (in a scope of its own): each streams from
        // the database straight into the destination, whose put commits at the end (a rename on the file system, a
        // block list on Azure), so readers see the old state or the whole file. One file's disk writes then hide
        // behind the other's reading (issue 14).
        var pending = new[] { (VirtualMachinesFile, LabUsageFile.VirtualMachines), (DisksFile, LabUsageFile.Disks) }
            .Where(f => !done.Any(d => d.Name == f.Item1)).ToList();
        using var both = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var writes = pending.Select(f => WriteAsync(lab, payload, f.Item1, f.Item2, both)).ToList();
        LabUsageExportFile[] written;
        try
        {
            written = await Task.WhenAll(writes);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // The file that failed speaks for both: the other was cancelled because of it.
            if (writes.Where(w => w.IsFaulted).Select(w => w.Exception!.InnerException).FirstOrDefault(e => e is not OperationCanceledException) is { } failure)
            {
                ExceptionDispatchInfo.Throw(failure);
            }
            throw;
        }
        done.AddRange(written);
        // The fence of decision 0071, once the CSVs' readers have released their connections: a lab deleted while
        // its export ran keeps none of it (the delete sweeps its files again after its rows).
        if (payload.SasUri is null && !await db.Labs.AnyAsync(l => l.Id == lab.Id, CancellationToken.None))
        {
            await blobs.PurgePrefixAsync(Container, payload.Folder, CancellationToken.None);
            throw new InvalidOperationException("The lab was deleted while its usage export ran.");
        }
        if (written.Length > 0)
        {
            await context.CheckpointAsync(JsonSerializer.Serialize(new Checkpoint(done), JobQueue.Json), 50 * done.Count, ct);
        }
        var result = new LabUsageExportResult(Container, payload.Folder, payload.SasUri is null ? "lab" : "sas", done);
        context.SetResult(JsonSerializer.Serialize(result, JobQueue.Json));
    }

    /// One file, on a context (and so a connection) of a scope of its own. A failure cancels the other file
    /// (<paramref name="both"/>).
    private async Task<LabUsageExportFile> WriteAsync(Lab lab, LabUsageExportPayload payload, string name, LabUsageFile file, CancellationTokenSource both)
    {
        var ct = both.Token;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await using var csv = await source.OpenAsync(scope.ServiceProvider.GetRequiredService<LetheDb>(), LabUsageQuery.For(lab, file, payload.Start, payload.End), ct);
            var blobName = payload.Folder + name;
            if (payload.SasUri is { } uri)
            {
                await sas.UploadAsync(new Uri(uri), Container, blobName, csv, ct);
            }
            else
            {
                await blobs.PutAsync(Container, blobName, csv, "text/csv", ct);
            }
            return new LabUsageExportFile(name, csv.Rows, csv.Bytes);
        }
        catch (Exception)
        {
            await both.CancelAsync();
            throw;
        }
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
