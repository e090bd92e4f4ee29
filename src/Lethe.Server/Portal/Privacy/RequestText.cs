using System.Globalization;
using Lethe.Client;
using Lethe.Privacy;
using Lethe.Privacy.Requests;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal.Privacy;

/// What the privacy pages share: a request as the API shows it (<c>PrivacyRequestEndpoints.ToResource</c>: the subject
/// only as its keyed hash), and the words for it.
public static class RequestText
{
    public static string Kind(PrivacyRequestResource request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Type == PrivacyRequestTypes.Erasure ? request.DryRun ? "Erasure preview" : "Erasure" : "Export";
    }

    /// The status in the subject's words: "Verified" says nothing to them, "waiting for approval" does.
    public static string Status(PrivacyRequestResource request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Status switch
        {
            PrivacyRequestStatuses.Received or PrivacyRequestStatuses.Verified when request.Approval.State == nameof(ApprovalState.Pending)
                => "Waiting for a privacy officer's approval",
            PrivacyRequestStatuses.Received or PrivacyRequestStatuses.Verified => "Queued",
            _ => request.Status,
        };
    }

    /// Not started yet: it can be cancelled.
    public static bool IsWaiting(PrivacyRequestResource request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Status is PrivacyRequestStatuses.Received or PrivacyRequestStatuses.Verified;
    }

    /// The job has it (queued or running): its page refreshes itself until it ends. A request waiting for an
    /// officer may wait days, so its page does not.
    public static bool IsInProgress(PrivacyRequestResource request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Status == PrivacyRequestStatuses.Running
            || (IsWaiting(request) && request.Approval.State != nameof(ApprovalState.Pending));
    }

    public static bool IsEnded(PrivacyRequestResource request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Status is PrivacyRequestStatuses.Completed or PrivacyRequestStatuses.Denied or PrivacyRequestStatuses.Cancelled;
    }

    /// Days until the due date, or how far past it; empty once the request has ended.
    public static string DaysLeft(PrivacyRequestResource request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (IsEnded(request))
        {
            return "";
        }
        var left = (request.DueAt - now).TotalDays;
        if (request.Overdue)
        {
            // Whole days past the due date; within the first day, "1 day".
            var over = Math.Max(1, (int)Math.Floor(-left));
            return over == 1 ? "Overdue by 1 day" : $"Overdue by {over} days";
        }
        var days = (int)Math.Floor(left);
        return days switch
        {
            0 => "Due today",
            1 => "1 day",
            _ => $"{days} days",
        };
    }

    /// What an erasure does to one place, in words (the preview's outcome).
    public static string Outcome(PrivacyPreviewEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Outcome switch
        {
            nameof(ErasureOutcome.Deleted) => "Deleted",
            nameof(ErasureOutcome.Anonymized) => "Anonymized",
            nameof(ErasureOutcome.Pseudonymized) => "Kept, with you replaced by an anonymous stand-in",
            nameof(ErasureOutcome.AnonymizedOn) => entry.Date is { } date ? $"Kept until {Day(date)}, then anonymized" : "Kept for a period, then anonymized",
            nameof(ErasureOutcome.Kept) => "Kept",
            _ => entry.Outcome,
        };
    }

    /// A place's name in pieces that each end at a "/", so that a long blob path can wrap between its folders.
    public static IEnumerable<string> PathParts(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var start = 0;
        for (var i = location.IndexOf('/', StringComparison.Ordinal); i >= 0; i = location.IndexOf('/', start))
        {
            yield return location[start..(i + 1)];
            start = i + 1;
        }
        if (start < location.Length)
        {
            yield return location[start..];
        }
    }

    public static string Day(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "";

    public static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) ?? "";

    public static string Iso(DateTimeOffset? time) => time?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) ?? "";

    /// A short handle for a request in tables: the last 8 hex digits of its GUID. A version 7 GUID begins with its
    /// time (requests filed within a minute share their first 8) and ends with random bits, which tell rows apart.
    public static string Handle(Guid id) => id.ToString("N")[^8..];

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} bytes",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KB",
        _ => $"{bytes / (1024.0 * 1024):0.#} MB",
    };

    /// The problem of a refused action, as the page says it (the engine's message names no person).
    public static string? Problem(RequestResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Problem == RequestProblem.None ? null : result.Message ?? result.Problem.ToString();
    }

    /// One of the caller's own requests (the engine's own filter: the subject hash of their object ID), or null.
    public static async Task<PrivacyRequest?> OwnAsync(PrivacyRequests requests, PrivacyCaller caller, Guid id, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(requests);
        return await (await requests.ListAsync(caller, null, all: false, ct)).FirstOrDefaultAsync(r => r.Id == id, ct);
    }

    /// The caller's erasure that has not ended (waiting, running, or failed and retryable): one is enough.
    public static async Task<PrivacyRequest?> OpenErasureAsync(PrivacyRequests requests, PrivacyCaller caller, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(requests);
        return await (await requests.ListAsync(caller, null, all: false, ct))
            .FirstOrDefaultAsync(r => r.Type == PrivacyRequestType.Erasure && !r.DryRun
                && (r.Status == PrivacyRequestStatus.Received || r.Status == PrivacyRequestStatus.Verified
                    || r.Status == PrivacyRequestStatus.Running || r.Status == PrivacyRequestStatus.Failed), ct);
    }
}

/// The preview table: what an erasure does (or did) in each place that holds some of the person's records.
public sealed record PreviewTable(IReadOnlyList<PrivacyPreviewEntry> Entries, string LabelId);

/// A request's steps, preview, retained records and failure, for the subject (<see cref="ForOfficer"/> false) or an officer.
public sealed record RequestDetails(PrivacyRequestResource Request, bool ForOfficer);
