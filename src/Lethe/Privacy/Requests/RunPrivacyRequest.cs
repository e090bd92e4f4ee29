using System.Text.Json;
using Lethe.Blobs;
using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lethe.Privacy.Requests;

/// Runs one privacy request, a checkpointed step at a time (ARCHITECTURE.md, "Requests").
///
/// An export stages one data file per location (NDJSON, and a CSV copy of every table) in the blob store, then the
/// modules' bundle files, then assembles the bundle in one streaming pass (zip → pipe → blob store, published only
/// when complete). An erasure first ends the person's sessions, then erases location by location in the map's order,
/// each step and its checkpoint in one transaction where the step's changes are in the database, then scans every
/// location for residue: only a clean scan completes it, and only once the request has forgotten the person and the
/// database files have been made to forget what the erasure changed (one scrub, after everything else).
///
/// A crash anywhere resumes from the last recorded step: a staged file is written again whole, a table step that did
/// not commit did nothing, a blob step is idempotent, the bundle is assembled again from the staged files, and an
/// erasure stopped before its scrub finds the tables to scrub in its work.
public sealed partial class RunPrivacyRequest(
    LetheDb db,
    PersonalDataSources sources,
    IBlobStore blobs,
    TimeProvider clock,
    IOptions<PrivacyOptions> options,
    IEnumerable<PersonalBundleFile> bundleFiles,
    IEnumerable<SessionRevoker> revokers,
    IServiceProvider services,
    ILogger<RunPrivacyRequest> logger) : IJobHandler
{
    public const string JobKind = "privacy.request";

    /// Step names of the steps that are not a location.
    public const string SessionsStep = "Sessions and tokens";
    public const string BundleStep = "Bundle";
    public const string ResidueStep = "Residue scan";

    public sealed record Payload(Guid RequestId);

    public string Kind => JobKind;

    private static readonly ReadOnlyMemory<byte> NewLine = "\n"u8.ToArray();

    private readonly List<PersonalBundleFile> _bundleFiles = [.. bundleFiles];

    public async Task RunAsync(JobContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var id = context.ReadPayload<Payload>().RequestId;
        if (!await StartAsync(id, ct))
        {
            return;
        }
        var request = await db.PrivacyRequests.AsNoTracking().FirstAsync(r => r.Id == id, ct);
        var work = RequestWork.Read(request.Work);
        var steps = RequestWork.ReadSteps(request.Steps);
        var current = "Finding the person";
        try
        {
            if (work.Scrub is { } scrub)
            {
                // Erased, scanned and forgotten; the files were not scrubbed yet.
                current = ResidueStep;
                var retained = JsonSerializer.Deserialize<List<RetainedEntry>>(request.Retained ?? "[]", RequestWork.Json)?.Count ?? 0;
                await FinishErasureAsync(context, request.Id, scrub, retained, ct);
                return;
            }
            if (work.Keys is null)
            {
                var keys = await sources.ResolveAsync(GivenKeys(request), ct);
                work.Keys = StoredKeys.From(keys);
                work.Now = clock.GetUtcNow();
                if (request.Type == PrivacyRequestType.Erasure && !request.DryRun)
                {
                    work.Pseudonym = Pseudonym.New();
                }
                steps = Plan(request);
                await SaveAsync(context, request, work, steps, ct);
            }
            if (steps.Count == 0)
            {
                // Work recorded without its steps (a request resumed by an older version): the plan is the map's.
                steps = Plan(request);
                for (var i = 0; i < Math.Min(work.Next, steps.Count); i++)
                {
                    steps[i].Status = StepStatus.Completed;
                }
            }
            if (request.Type == PrivacyRequestType.Export)
            {
                await ExportAsync(context, request, work, steps, s => current = s, ct);
            }
            else
            {
                await EraseAsync(context, request, work, steps, s => current = s, ct);
            }
        }
        catch (ResidueException residue)
        {
            await FailAsync(request.Id, steps, residue.Location, residue.Message, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException and not LeaseLostException)
        {
            LogStepFailed(e, request.Id, current);
            if (context.Job.Failures + 1 < context.Job.MaxAttempts)
            {
                throw;
            }
            // The message names the step, never the exception's text (it may quote a value) or its type.
            await FailAsync(request.Id, steps, current, $"The step \"{current}\" failed {context.Job.MaxAttempts} times; the server log has the details. Retry the request to resume from this step.", ct);
        }
    }

    /// Verified → Running, once: false when the request was cancelled, denied or ended meanwhile.
    private async Task<bool> StartAsync(Guid id, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await db.PrivacyRequests
            .Where(r => r.Id == id && (r.Status == PrivacyRequestStatus.Verified || r.Status == PrivacyRequestStatus.Received)
                && r.Approval != ApprovalState.Pending && r.Approval != ApprovalState.Denied)
            .ExecuteUpdateAsync(set => set
                .SetProperty(r => r.Status, PrivacyRequestStatus.Running)
                .SetProperty(r => r.StartedAt, r => r.StartedAt ?? now)
                .SetProperty(r => r.Version, Guid.NewGuid()), ct);
        return await db.PrivacyRequests.AsNoTracking().AnyAsync(r => r.Id == id && r.Status == PrivacyRequestStatus.Running, ct);
    }

    private static SubjectKeys GivenKeys(PrivacyRequest request)
    {
        var keys = new SubjectKeys();
        if (request.SubjectObjectId is { } objectId)
        {
            keys = keys.With(SubjectKeys.ForObjectId(objectId));
        }
        if (request.SubjectEmail is { } email)
        {
            keys = keys.With(SubjectKeys.ForEmail(email));
        }
        if (request.SubjectAuthorId is { } author)
        {
            keys = keys.With(SubjectKeys.ForAuthorId(author));
        }
        return keys;
    }

    private List<RequestStep> Plan(PrivacyRequest request)
    {
        var steps = new List<RequestStep>();
        var erasing = request.Type == PrivacyRequestType.Erasure && !request.DryRun;
        if (erasing)
        {
            steps.Add(new RequestStep { Location = SessionsStep, Module = "Identity" });
        }
        steps.AddRange(sources.InOrder.Select(s => new RequestStep { Location = s.Location.Name, Module = s.Location.Module }));
        if (request.Type == PrivacyRequestType.Export)
        {
            steps.AddRange(_bundleFiles.Select(f => new RequestStep { Location = $"data/{f.Module}/{f.FileName}", Module = f.Module }));
            steps.Add(new RequestStep { Location = BundleStep, Module = "Privacy" });
        }
        else if (erasing)
        {
            steps.Add(new RequestStep { Location = ResidueStep, Module = "Privacy" });
        }
        return steps;
    }

    // ---- Export -------------------------------------------------------------------------------------------------

    private async Task ExportAsync(JobContext context, PrivacyRequest request, RequestWork work, List<RequestStep> steps, Action<string> current, CancellationToken ct)
    {
        var keys = work.Keys!.ToKeys();
        var locations = sources.InOrder.Count;
        for (var i = work.Next; i < steps.Count; i++)
        {
            current(steps[i].Location);
            await MarkRunningAsync(request.Id, steps, i, ct);
            long records;
            if (i < locations)
            {
                records = await StageLocationAsync(request.Id, i, sources.InOrder[i], keys, work, ct);
            }
            else if (i < locations + _bundleFiles.Count)
            {
                records = await StageBundleFileAsync(request.Id, i, _bundleFiles[i - locations], keys, work, ct);
            }
            else
            {
                work.AssembledAt ??= clock.GetUtcNow();
                await SaveAsync(context, request, work, steps, ct);
                var bundle = await new BundleWriter(blobs, request, work).WriteAsync(ct);
                steps[i].Status = StepStatus.Completed;
                steps[i].Records = bundle.Files;
                await CompleteExportAsync(context, request, steps, bundle, ct);
                return;
            }
            steps[i].Status = StepStatus.Completed;
            steps[i].Records = records;
            work.Next = i + 1;
            await SaveAsync(context, request, work, steps, ct);
        }
    }

    private async Task<long> StageLocationAsync(Guid requestId, int index, LocatedSource located, SubjectKeys keys, RequestWork work, CancellationToken ct)
    {
        var location = located.Location;
        var staged = $"{PrivacyBlobs.Staging(requestId)}{index:D3}.ndjson";
        var records = (await BlobStreams.WriteAsync(blobs, PrivacyBlobs.Container, staged, "application/x-ndjson", async (stream, token) =>
        {
            long count = 0;
            await using var writer = new Utf8JsonWriter(stream);
            await foreach (var record in located.Source.FindAsync(keys, token))
            {
                record.WriteTo(writer);
                await writer.FlushAsync(token);
                await stream.WriteAsync(NewLine, token);
                // One JSON value per line: the writer starts afresh for each.
                writer.Reset(stream);
                count++;
            }
            await writer.FlushAsync(token);
            return count;
        }, ct)).Result;
        var path = $"data/{location.Module}/{BundleWriter.FileName(location.Name)}";
        work.Files.RemoveAll(f => f.Staged == staged);
        work.Files.Add(new StagedFile(path, staged, records, location.Kind, location.Module, location.Name, location.Strategy.ToString(), BundleWriter.Describe(location))
        {
            Columns = [.. location.Fields.Where(f => f.Export == PersonalDataExport.Include).Select(f => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(f.Name))],
        });
        work.Blobs.RemoveAll(b => b.Location == location.Name);
        if (located.Source is IPersonalBlobSource blobSource)
        {
            await foreach (var blob in blobSource.BlobsAsync(keys, ct))
            {
                if (!blob.Shared)
                {
                    work.Blobs.Add(new BundleBlob(location.Module, location.Name, blob.Container, blob.Name, blob.SoftDeleted, blob.Note));
                }
            }
        }
        return records;
    }

    private async Task<long> StageBundleFileAsync(Guid requestId, int index, PersonalBundleFile file, SubjectKeys keys, RequestWork work, CancellationToken ct)
    {
        var staged = $"{PrivacyBlobs.Staging(requestId)}{index:D3}-{file.FileName}";
        var records = (await BlobStreams.WriteAsync(blobs, PrivacyBlobs.Container, staged, "text/csv",
            (stream, token) => file.WriteAsync(services, keys, stream, token), ct)).Result;
        var path = $"data/{file.Module}/{file.FileName}";
        work.Files.RemoveAll(f => f.Staged == staged);
        work.Files.Add(new StagedFile(path, staged, records, "file", file.Module, path, "", file.Description));
        return records;
    }

    private async Task CompleteExportAsync(JobContext context, PrivacyRequest request, List<RequestStep> steps, BundleResult bundle, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            await db.PrivacyRequests.Where(r => r.Id == request.Id).ExecuteUpdateAsync(set => set
                .SetProperty(r => r.Status, PrivacyRequestStatus.Completed)
                .SetProperty(r => r.CompletedAt, now)
                .SetProperty(r => r.Steps, RequestWork.WriteSteps(steps))
                .SetProperty(r => r.BundleName, bundle.Name)
                .SetProperty(r => r.BundleBytes, bundle.Bytes)
                .SetProperty(r => r.BundleSha256, bundle.Sha256)
                .SetProperty(r => r.BundleExpiresAt, now.AddDays(options.Value.BundleRetentionDays))
                .SetProperty(r => r.Version, Guid.NewGuid()), ct);
            await ForgetSubjectAsync(request.Id, ct);
            await context.CheckpointAsync("{}", 100, ct);
            await transaction.CommitAsync(ct);
        }
        context.SetResult(JsonSerializer.Serialize(new { requestId = request.Id, bundle = bundle.Name, bytes = bundle.Bytes }));
        // The staged files are in the bundle now; a crash before this leaves them to the bundle sweep.
        await blobs.PurgePrefixAsync(PrivacyBlobs.Container, PrivacyBlobs.Staging(request.Id), CancellationToken.None);
    }

    // ---- Erasure ------------------------------------------------------------------------------------------------

    private async Task EraseAsync(JobContext context, PrivacyRequest request, RequestWork work, List<RequestStep> steps, Action<string> current, CancellationToken ct)
    {
        var keys = work.Keys!.ToKeys();
        var erasure = new ErasureContext(work.Pseudonym ?? Pseudonym.New(), work.Now, request.DryRun, request.AnonymizeNow);
        var offset = request.DryRun ? 0 : 1;
        for (var i = work.Next; i < steps.Count; i++)
        {
            current(steps[i].Location);
            await MarkRunningAsync(request.Id, steps, i, ct);
            if (!request.DryRun && i == 0)
            {
                await RevokeSessionsAsync(keys, ct);
                work.Revoked = true;
                steps[i].Status = StepStatus.Completed;
                steps[i].Records = keys.ObjectIds.Count;
                work.Next = i + 1;
                await SaveAsync(context, request, work, steps, ct);
                continue;
            }
            if (i - offset >= sources.InOrder.Count)
            {
                // The residue scan: every source is asked.
                var retained = await ScanAsync(keys, erasure, ct);
                steps[i].Status = StepStatus.Completed;
                await CompleteErasureAsync(context, request, work, steps, retained, ct);
                return;
            }
            var located = sources.InOrder[i - offset];
            // A table step's changes and its checkpoint commit together; a source that opens its own transaction
            // (or writes blobs) is idempotent instead, so running it again after a crash changes nothing more.
            var atomic = db.Database.CurrentTransaction is null && located.Source is ITableSource;
            await using var transaction = atomic ? await db.Database.BeginTransactionAsync(ct) : null;
            var result = await located.Source.EraseAsync(keys, erasure, ct);
            steps[i].Status = StepStatus.Completed;
            steps[i].Records = result.Records;
            work.Outcomes.RemoveAll(o => o.Location == located.Location.Name);
            work.Outcomes.Add(new PreviewEntry(located.Location.Module, located.Location.Name, located.Location.Strategy.ToString(), result.Outcome, result.Records, result.Date, result.Reason ?? located.Location.Reason));
            if (!request.DryRun && located.Location.Kind == "table" && result.Records > 0 && result.Outcome != ErasureOutcome.Kept && !work.Touched.Contains(located.Location.Name))
            {
                work.Touched.Add(located.Location.Name);
            }
            work.Next = i + 1;
            if (request.DryRun && work.Next == steps.Count)
            {
                await CompleteDryRunAsync(context, request, work, steps, transaction, ct);
                return;
            }
            await SaveAsync(context, request, work, steps, ct);
            if (transaction is not null)
            {
                await transaction.CommitAsync(ct);
            }
        }
        if (request.DryRun)
        {
            // A map without locations: nothing to preview.
            await CompleteDryRunAsync(context, request, work, steps, null, ct);
        }
    }

    /// Ends everything that lets the person act: the account's sessions (a new security stamp ends every bearer,
    /// refresh and cookie session at its next request; the account is locked so nobody signs in again) and every
    /// module's tokens.
    private async Task RevokeSessionsAsync(SubjectKeys keys, CancellationToken ct)
    {
        var ids = keys.ObjectIds.ToList();
        var stamp = Guid.NewGuid().ToString("N");
        await db.Users.Where(u => ids.Contains(u.Id)).ExecuteUpdateAsync(set => set
            .SetProperty(u => u.SecurityStamp, stamp)
            .SetProperty(u => u.ConcurrencyStamp, stamp)
            .SetProperty(u => u.LockoutEnabled, true)
            .SetProperty(u => u.LockoutEnd, DateTimeOffset.MaxValue), ct);
        foreach (var revoker in revokers)
        {
            await revoker.RevokeAsync(services, keys, ct);
        }
    }

    private async Task<List<RetainedEntry>> ScanAsync(SubjectKeys keys, ErasureContext erasure, CancellationToken ct)
    {
        var retained = new List<RetainedEntry>();
        var residue = new List<string>();
        foreach (var located in sources.InOrder)
        {
            var found = await located.Source.ScanAsync(keys, erasure, ct);
            if (found.Records > 0)
            {
                residue.Add(located.Location.Name);
            }
            if (found.Retained > 0)
            {
                retained.Add(new RetainedEntry(located.Location.Module, located.Location.Name, found.Retained, found.RetainedUntil, found.Reason ?? located.Location.Reason));
            }
        }
        if (residue.Count > 0)
        {
            throw new ResidueException(residue[0], $"The residue scan still finds the person's data in {string.Join(", ", residue)}. Retry the request to erase it again.");
        }
        return retained;
    }

    /// The request forgets the person first (its row held the keys until now), keeping in its work only the tables to
    /// scrub; then the files forget everything the erasure changed; only then is it completed.
    private async Task CompleteErasureAsync(JobContext context, PrivacyRequest request, RequestWork work, List<RequestStep> steps, List<RetainedEntry> retained, CancellationToken ct)
    {
        List<string> scrub = [.. work.Touched, PrivacyRequestsTable];
        var json = new RequestWork { Scrub = scrub }.Serialize();
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            await db.PrivacyRequests.Where(r => r.Id == request.Id).ExecuteUpdateAsync(set => set
                .SetProperty(r => r.Steps, RequestWork.WriteSteps(steps))
                .SetProperty(r => r.Preview, JsonSerializer.Serialize(work.Outcomes, RequestWork.Json))
                .SetProperty(r => r.Retained, JsonSerializer.Serialize(retained, RequestWork.Json))
                .SetProperty(r => r.Version, Guid.NewGuid()), ct);
            await ForgetSubjectAsync(request.Id, ct);
            await db.PrivacyRequests.Where(r => r.Id == request.Id).ExecuteUpdateAsync(set => set.SetProperty(r => r.Work, json), ct);
            await context.CheckpointAsync("{}", 99, ct);
            await transaction.CommitAsync(ct);
        }
        await FinishErasureAsync(context, request.Id, scrub, retained.Count, ct);
    }

    private async Task FinishErasureAsync(JobContext context, Guid requestId, List<string> scrub, int retained, CancellationToken ct)
    {
        await PersonalDataSources.ScrubFilesAsync(db, scrub, ct);
        var now = clock.GetUtcNow();
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            await db.PrivacyRequests.Where(r => r.Id == requestId).ExecuteUpdateAsync(set => set
                .SetProperty(r => r.Status, PrivacyRequestStatus.Completed)
                .SetProperty(r => r.CompletedAt, now)
                .SetProperty(r => r.Work, (string?)null)
                .SetProperty(r => r.Version, Guid.NewGuid()), ct);
            await context.CheckpointAsync("{}", 100, ct);
            await transaction.CommitAsync(ct);
        }
        context.SetResult(JsonSerializer.Serialize(new { requestId, retained }));
    }

    private async Task CompleteDryRunAsync(JobContext context, PrivacyRequest request, RequestWork work, List<RequestStep> steps, Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction? open, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var transaction = open ?? await db.Database.BeginTransactionAsync(ct);
        try
        {
            await db.PrivacyRequests.Where(r => r.Id == request.Id).ExecuteUpdateAsync(set => set
                .SetProperty(r => r.Status, PrivacyRequestStatus.Completed)
                .SetProperty(r => r.CompletedAt, now)
                .SetProperty(r => r.Steps, RequestWork.WriteSteps(steps))
                .SetProperty(r => r.Preview, JsonSerializer.Serialize(work.Outcomes, RequestWork.Json))
                .SetProperty(r => r.Version, Guid.NewGuid()), ct);
            await ForgetSubjectAsync(request.Id, ct);
            await context.CheckpointAsync("{}", 100, ct);
            await transaction.CommitAsync(ct);
        }
        finally
        {
            if (open is null)
            {
                await transaction.DisposeAsync();
            }
        }
    }

    private string PrivacyRequestsTable => db.Model.FindEntityType(typeof(PrivacyRequest))!.GetTableName()!;

    /// An ended request knows the person only by its keyed hash.
    private Task<int> ForgetSubjectAsync(Guid requestId, CancellationToken ct)
        => db.PrivacyRequests.Where(r => r.Id == requestId).ExecuteUpdateAsync(set => set
            .SetProperty(r => r.SubjectObjectId, (Guid?)null)
            .SetProperty(r => r.SubjectEmail, (string?)null)
            .SetProperty(r => r.SubjectAuthorId, (string?)null)
            .SetProperty(r => r.Work, (string?)null), ct);

    // ---- Bookkeeping --------------------------------------------------------------------------------------------

    private Task MarkRunningAsync(Guid requestId, List<RequestStep> steps, int index, CancellationToken ct)
    {
        if (steps[index].Status == StepStatus.Running)
        {
            return Task.CompletedTask;
        }
        steps[index].Status = StepStatus.Running;
        var json = RequestWork.WriteSteps(steps);
        return db.PrivacyRequests.Where(r => r.Id == requestId).ExecuteUpdateAsync(set => set.SetProperty(r => r.Steps, json), ct);
    }

    /// Records the request's progress and the job's checkpoint together (inside the step's transaction when it has
    /// one): the checkpoint is fenced by the lease, so a worker that lost its job records nothing.
    private async Task SaveAsync(JobContext context, PrivacyRequest request, RequestWork work, List<RequestStep> steps, CancellationToken ct)
    {
        var own = db.Database.CurrentTransaction is null;
        await using var transaction = own ? await db.Database.BeginTransactionAsync(ct) : null;
        var json = work.Serialize();
        var stepsJson = RequestWork.WriteSteps(steps);
        await db.PrivacyRequests.Where(r => r.Id == request.Id).ExecuteUpdateAsync(set => set
            .SetProperty(r => r.Work, json)
            .SetProperty(r => r.Steps, stepsJson), ct);
        var done = steps.Count(s => s.Status == StepStatus.Completed);
        await context.CheckpointAsync("{}", steps.Count == 0 ? 0 : Math.Min(99, done * 100 / steps.Count), ct);
        if (transaction is not null)
        {
            await transaction.CommitAsync(ct);
        }
    }

    private async Task FailAsync(Guid requestId, List<RequestStep> steps, string step, string message, CancellationToken ct)
    {
        foreach (var s in steps.Where(s => s.Status == StepStatus.Running))
        {
            s.Status = StepStatus.Failed;
        }
        var json = RequestWork.WriteSteps(steps);
        await db.PrivacyRequests.Where(r => r.Id == requestId).ExecuteUpdateAsync(set => set
            .SetProperty(r => r.Status, PrivacyRequestStatus.Failed)
            .SetProperty(r => r.Steps, json)
            .SetProperty(r => r.FailureStep, step.Length > 512 ? step[..512] : step)
            .SetProperty(r => r.FailureMessage, message.Length > 2000 ? message[..2000] : message)
            .SetProperty(r => r.Version, Guid.NewGuid()), ct);
    }

    private sealed class ResidueException(string location, string message) : Exception(message)
    {
        public string Location { get; } = location;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Privacy request {RequestId}: the step {Step} failed.")]
    private partial void LogStepFailed(Exception exception, Guid requestId, string step);
}
