using System.Net.Mail;
using Lethe.Blobs;
using Lethe.Jobs;
using Lethe.Resources;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lethe.Privacy.Requests;

/// Who acts on a request: their object ID, and whether they are a privacy officer.
public sealed record PrivacyCaller(Guid ObjectId, bool IsOfficer);

/// The subject of a request filed by an officer: exactly one key.
public sealed record SubjectInput(string? Email, Guid? ObjectId, string? AuthorId);

public sealed record FileRequest(PrivacyRequestType Type, SubjectInput? Subject, bool DryRun, bool AnonymizeNow, string? Verification);

public enum RequestProblem
{
    None,
    /// The caller may not see it (or it does not exist): 404, existence does not leak.
    NotFound,
    /// The caller sees it but may not do this: 403.
    Forbidden,
    /// The request's state does not allow it: 409.
    Conflict,
    /// A field is wrong: 400 naming it.
    Invalid,
}

public sealed record RequestResult(PrivacyRequest? Request, RequestProblem Problem = RequestProblem.None, string? Message = null, string? Field = null)
{
    public static RequestResult Ok(PrivacyRequest request) => new(request);

    public static RequestResult NotFound() => new(null, RequestProblem.NotFound, "The privacy request was not found, or you have no access to it.");

    public static RequestResult Conflict(string message) => new(null, RequestProblem.Conflict, message);

    public static RequestResult Forbidden(string message) => new(null, RequestProblem.Forbidden, message);

    public static RequestResult Invalid(string field, string message) => new(null, RequestProblem.Invalid, message, field);
}

/// Subject requests: filing, the officer's decisions, cancelling, retrying, and who sees what. The API and the portal
/// both go through here; the job (<see cref="RunPrivacyRequest"/>) does the work.
///
/// Every state change is one conditional write (or an optimistic-concurrency save): two officers approving at once,
/// or a cancel racing the job's start, end in one state, and the loser gets a conflict.
public sealed class PrivacyRequests(LetheDb db, SubjectHashes hashes, PersonalDataSources sources, IBlobStore blobs, TimeProvider clock, IOptions<PrivacyOptions> options)
{
    public const int MaxEmailLength = 256;
    public const int MaxAuthorIdLength = 64;

    private PrivacyOptions Options => options.Value;

    public async Task<bool> IsOfficerAsync(Guid objectId, CancellationToken ct)
        => await db.CheckAsync(objectId, ResourceId.Root, Right.HandlePrivacyRequests, ct) == AccessDecision.Allowed;

    public async Task<PrivacyCaller> CallerAsync(Guid objectId, CancellationToken ct) => new(objectId, await IsOfficerAsync(objectId, ct));

    public async Task<RequestResult> FileAsync(PrivacyCaller caller, FileRequest input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(input);
        if (input.DryRun && input.Type != PrivacyRequestType.Erasure)
        {
            return RequestResult.Invalid("dryRun", "dryRun applies to erasures only: an export changes nothing.");
        }
        if (input.AnonymizeNow && input.Type != PrivacyRequestType.Erasure)
        {
            return RequestResult.Invalid("anonymizeNow", "anonymizeNow applies to erasures only.");
        }
        var received = clock.GetUtcNow();
        var request = new PrivacyRequest
        {
            Id = Guid.CreateVersion7(received),
            Type = input.Type,
            DryRun = input.DryRun,
            AnonymizeNow = input.AnonymizeNow,
            SubjectHash = "",
            ReceivedAt = received,
            DueAt = received.AddDays(Options.DueDays),
            Version = Guid.NewGuid(),
        };
        string hash;
        Guid? objectId = null;
        string? email = null;
        string? authorId = null;
        string? verification = null;
        Guid? filedBy = null;
        if (input.Subject is null)
        {
            // Self-service: signing in was the identity check.
            if (!string.IsNullOrEmpty(input.Verification))
            {
                return RequestResult.Invalid("verification", "verification is for a privacy officer filing on someone's behalf; a request for yourself needs none.");
            }
            objectId = caller.ObjectId;
            hash = await hashes.OfObjectIdAsync(caller.ObjectId, ct);
        }
        else
        {
            if (!caller.IsOfficer)
            {
                return RequestResult.Forbidden("Only a privacy officer may file a request for someone else. Leave out subject to ask for yourself.");
            }
            var given = new[] { input.Subject.Email is not null, input.Subject.ObjectId is not null, input.Subject.AuthorId is not null }.Count(b => b);
            if (given != 1)
            {
                return RequestResult.Invalid("subject", "subject names the person by exactly one of email, objectId or authorId.");
            }
            if (string.IsNullOrWhiteSpace(input.Verification))
            {
                return RequestResult.Invalid("verification", "verification says how the person's identity was checked; it is required when filing for someone else.");
            }
            if (input.Verification.Length > PrivacyRequest.MaxVerificationLength)
            {
                return RequestResult.Invalid("verification", $"verification is at most {PrivacyRequest.MaxVerificationLength} characters.");
            }
            verification = input.Verification.Trim();
            filedBy = caller.ObjectId;
            SubjectKeys keys;
            if (input.Subject.Email is { } e)
            {
                if (e.Length > MaxEmailLength || !MailAddress.TryCreate(e.Trim(), out var parsed) || parsed.Address != e.Trim())
                {
                    return RequestResult.Invalid("subject.email", "subject.email is not an email address.");
                }
                email = SubjectKeys.NormalizeEmail(e);
                keys = SubjectKeys.ForEmail(email);
            }
            else if (input.Subject.ObjectId is { } id)
            {
                if (id == Guid.Empty)
                {
                    return RequestResult.Invalid("subject.objectId", "subject.objectId is not an object ID (the all-zero GUID names nobody).");
                }
                objectId = id;
                keys = SubjectKeys.ForObjectId(id);
            }
            else
            {
                var a = input.Subject.AuthorId!.Trim();
                if (a.Length is 0 or > MaxAuthorIdLength || !a.All(char.IsAsciiHexDigit))
                {
                    return RequestResult.Invalid("subject.authorId", "subject.authorId is an author ID: 64 hexadecimal characters.");
                }
                authorId = a.ToUpperInvariant();
                keys = SubjectKeys.ForAuthorId(authorId);
            }
            // The hash follows the person's account where Lethe knows one, so that they see the request too.
            var resolved = objectId is null ? await sources.ResolveAsync(keys, ct) : keys;
            var account = objectId ?? (resolved.ObjectIds.Count == 1 ? resolved.ObjectIds.First() : null);
            hash = account is { } oid ? await hashes.OfObjectIdAsync(oid, ct)
                : email is not null ? await hashes.OfEmailAsync(email, ct)
                : await hashes.OfAuthorIdAsync(authorId!, ct);
        }

        var approval = input.Type == PrivacyRequestType.Export || input.DryRun || Options.ErasureApproval == ErasureApproval.None
            ? ApprovalState.NotNeeded
            : ApprovalState.Pending;
        var filed = new PrivacyRequest
        {
            Id = request.Id,
            Type = request.Type,
            DryRun = request.DryRun,
            AnonymizeNow = request.AnonymizeNow,
            SubjectHash = hash,
            SubjectObjectId = objectId,
            SubjectEmail = email,
            SubjectAuthorId = authorId,
            FiledBy = filedBy,
            Verification = verification,
            ReceivedAt = request.ReceivedAt,
            DueAt = request.DueAt,
            Status = PrivacyRequestStatus.Verified,
            Approval = approval,
            Version = request.Version,
        };
        db.PrivacyRequests.Add(filed);
        if (approval == ApprovalState.NotNeeded)
        {
            Enqueue(filed);
        }
        await db.SaveChangesAsync(ct);
        return RequestResult.Ok(filed);
    }

    private void Enqueue(PrivacyRequest request)
    {
        // The job names no person: its payload is the request's ID, and it is not "requested by" the subject.
        var job = JobQueue.Add(db, RunPrivacyRequest.JobKind, $$"""{"requestId":"{{request.Id:D}}"}""", null, null, clock, maxAttempts: 3);
        request.JobId = job.Id;
    }

    /// The request if the caller may see it: its subject, or a privacy officer.
    public async Task<PrivacyRequest?> FindAsync(PrivacyCaller caller, Guid id, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var request = await db.PrivacyRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
        if (request is null)
        {
            return null;
        }
        return caller.IsOfficer || request.SubjectHash == await hashes.OfObjectIdAsync(caller.ObjectId, ct) ? request : null;
    }

    /// The caller's own requests (newest first); for an officer every request, open ones first, most overdue first.
    public async Task<IQueryable<PrivacyRequest>> ListAsync(PrivacyCaller caller, PrivacyRequestStatus? status, bool all, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        IQueryable<PrivacyRequest> requests = db.PrivacyRequests.AsNoTracking();
        if (!(caller.IsOfficer && all))
        {
            var mine = await hashes.OfObjectIdAsync(caller.ObjectId, ct);
            requests = requests.Where(r => r.SubjectHash == mine);
        }
        if (status is { } s)
        {
            requests = requests.Where(r => r.Status == s);
        }
        // Open requests first, the nearest due date (so the most overdue) first; then the ended ones.
        return requests
            .OrderBy(r => r.Status == PrivacyRequestStatus.Completed || r.Status == PrivacyRequestStatus.Denied || r.Status == PrivacyRequestStatus.Cancelled ? 1 : 0)
            .ThenBy(r => r.DueAt)
            .ThenBy(r => r.Id);
    }

    public async Task<RequestResult> ApproveAsync(PrivacyCaller caller, Guid id, string? reason, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (reason is { Length: > PrivacyRequest.MaxReasonLength })
        {
            return RequestResult.Invalid("reason", $"reason is at most {PrivacyRequest.MaxReasonLength} characters.");
        }
        var request = await LoadAsync(caller, id, ct);
        if (request is null)
        {
            return RequestResult.NotFound();
        }
        if (!caller.IsOfficer)
        {
            return RequestResult.Forbidden("Only a privacy officer may approve an erasure.");
        }
        if (Undecidable(request, "approved") is { } conflict)
        {
            return conflict;
        }
        if (Options.FourEyes && (request.FiledBy == caller.ObjectId || request.SubjectObjectId == caller.ObjectId))
        {
            return RequestResult.Forbidden("Four-eyes approval is on (Lethe:Privacy:FourEyes): an officer other than the one who filed the request approves it.");
        }
        request.Approval = ApprovalState.Approved;
        request.ApprovalBy = caller.ObjectId;
        request.ApprovalAt = clock.GetUtcNow();
        request.ApprovalReason = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        request.Version = Guid.NewGuid();
        Enqueue(request);
        return await SaveAsync(request, ct);
    }

    public async Task<RequestResult> DenyAsync(PrivacyCaller caller, Guid id, string? reason, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (string.IsNullOrWhiteSpace(reason))
        {
            return RequestResult.Invalid("reason", "reason is required: say why the erasure is denied.");
        }
        if (reason.Length > PrivacyRequest.MaxReasonLength)
        {
            return RequestResult.Invalid("reason", $"reason is at most {PrivacyRequest.MaxReasonLength} characters.");
        }
        var request = await LoadAsync(caller, id, ct);
        if (request is null)
        {
            return RequestResult.NotFound();
        }
        if (!caller.IsOfficer)
        {
            return RequestResult.Forbidden("Only a privacy officer may deny a request.");
        }
        if (Undecidable(request, "denied") is { } conflict)
        {
            return conflict;
        }
        var now = clock.GetUtcNow();
        request.Approval = ApprovalState.Denied;
        request.ApprovalBy = caller.ObjectId;
        request.ApprovalAt = now;
        request.ApprovalReason = reason.Trim();
        End(request, PrivacyRequestStatus.Denied, now);
        return await SaveAsync(request, ct);
    }

    public async Task<RequestResult> CancelAsync(PrivacyCaller caller, Guid id, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var request = await LoadAsync(caller, id, ct);
        if (request is null)
        {
            return RequestResult.NotFound();
        }
        if (request.Status is not (PrivacyRequestStatus.Received or PrivacyRequestStatus.Verified))
        {
            return RequestResult.Conflict($"The request is {request.Status}: only a request that has not started can be cancelled.");
        }
        if (request.Approval == ApprovalState.Pending)
        {
            // Nothing is left to approve.
            request.Approval = ApprovalState.NotNeeded;
        }
        End(request, PrivacyRequestStatus.Cancelled, clock.GetUtcNow());
        var saved = await SaveAsync(request, ct);
        if (saved.Problem == RequestProblem.None && request.JobId is { } job)
        {
            // The job finds the request cancelled if it starts anyway.
            await JobQueue.CancelAsync(db, job, clock, ct);
        }
        return saved;
    }

    public async Task<RequestResult> RetryAsync(PrivacyCaller caller, Guid id, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var request = await LoadAsync(caller, id, ct);
        if (request is null)
        {
            return RequestResult.NotFound();
        }
        if (request.Status != PrivacyRequestStatus.Failed)
        {
            return RequestResult.Conflict($"The request is {request.Status}: only a failed request can be retried.");
        }
        // It resumes from its failing step: the work recorded so far stays.
        request.Status = PrivacyRequestStatus.Verified;
        request.FailureStep = null;
        request.FailureMessage = null;
        request.Version = Guid.NewGuid();
        Enqueue(request);
        return await SaveAsync(request, ct);
    }

    /// The bundle's content, when the request is a completed export whose bundle is still kept.
    public async Task<(Stream? Content, long? Length, RequestResult Result)> OpenBundleAsync(PrivacyCaller caller, Guid id, CancellationToken ct)
    {
        var request = await FindAsync(caller, id, ct);
        if (request is null)
        {
            return (null, null, RequestResult.NotFound());
        }
        if (request.Type != PrivacyRequestType.Export)
        {
            return (null, null, RequestResult.Conflict("Only an export has a bundle."));
        }
        if (request.Status != PrivacyRequestStatus.Completed)
        {
            return (null, null, RequestResult.Conflict($"The export is {request.Status}: its bundle is ready once it has completed."));
        }
        if (request.BundleName is null)
        {
            return (null, null, RequestResult.Conflict($"The bundle was deleted: bundles are kept {Options.BundleRetentionDays} days. File a new export."));
        }
        try
        {
            return (await blobs.OpenReadAsync(PrivacyBlobs.Container, request.BundleName, ct), request.BundleBytes, RequestResult.Ok(request));
        }
        catch (BlobNotFoundException)
        {
            return (null, null, RequestResult.Conflict($"The bundle was deleted: bundles are kept {Options.BundleRetentionDays} days. File a new export."));
        }
    }

    private async Task<PrivacyRequest?> LoadAsync(PrivacyCaller caller, Guid id, CancellationToken ct)
    {
        var request = await db.PrivacyRequests.FirstOrDefaultAsync(r => r.Id == id, ct);
        if (request is null)
        {
            return null;
        }
        return caller.IsOfficer || request.SubjectHash == await hashes.OfObjectIdAsync(caller.ObjectId, ct) ? request : null;
    }

    /// The 409 when the request is not an erasure waiting for an officer, in words.
    private static RequestResult? Undecidable(PrivacyRequest request, string decided)
    {
        if (request.Status != PrivacyRequestStatus.Verified)
        {
            return RequestResult.Conflict($"The request is {request.Status}: only a pending erasure can be {decided}.");
        }
        return request.Approval switch
        {
            ApprovalState.Pending => null,
            ApprovalState.NotNeeded => RequestResult.Conflict("This request needs no approval."),
            _ => RequestResult.Conflict($"The request was {request.Approval.ToString().ToLowerInvariant()} already."),
        };
    }

    private static void End(PrivacyRequest request, PrivacyRequestStatus status, DateTimeOffset now)
    {
        request.Status = status;
        request.CompletedAt = now;
        request.SubjectObjectId = null;
        request.SubjectEmail = null;
        request.SubjectAuthorId = null;
        request.Work = null;
        request.Version = Guid.NewGuid();
    }

    private async Task<RequestResult> SaveAsync(PrivacyRequest request, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return RequestResult.Ok(request);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            var now = await db.PrivacyRequests.AsNoTracking().Where(r => r.Id == request.Id).Select(r => r.Status).FirstOrDefaultAsync(ct);
            return RequestResult.Conflict($"The request changed while this was being done (it is {now} now). Read it again.");
        }
    }
}
