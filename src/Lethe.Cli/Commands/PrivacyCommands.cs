using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Lethe.Client;

namespace Lethe.Cli.Commands;

/// `lethe privacy ...`: the personal-data map, and subject requests (issue 11): a person's export and erasure, a
/// privacy officer's requests for someone else and decisions, and the offline check of an export bundle.
///
/// Nothing here prints a subject's identifiers: a request shows the person only as the server's keyed hash, and the
/// email or IDs given on the command line are never echoed.
internal static class PrivacyCommands
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private const string ApprovalPending = "Pending";

    public static Command Create(Terminal terminal, CommonOptions options)
        => Cli.Group("privacy", "The privacy engine: the personal-data map, and subject requests (export, erasure)",
            Map(terminal, options), Export(terminal, options), Erase(terminal, options), Requests(terminal, options), Show(terminal, options),
            Approve(terminal, options), Deny(terminal, options), Cancel(terminal, options), Retry(terminal, options), Bundle(terminal, options));

    private static Command Map(Terminal terminal, CommonOptions options)
    {
        var map = new Command("map", "Show the personal-data map: every location that holds personal data, its fields and its erasure strategy")
            .With(options.Server, options.Output);
        map.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var response = await connection.Client.GetPersonalDataMapAsync(ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(response);
                return ExitCodes.Success;
            }
            var table = Invocation.Table("Module", "Kind", "Location", "Strategy", "Retention", "Fields");
            foreach (var l in response.Locations)
            {
                var retention = l.RetentionDays is { } days ? $"{days} days" : l.RetentionSetting ?? "";
                var fields = string.Join(", ", l.Fields.Select(f => $"{f.Name} ({f.Category}{(f.IsSubjectKey ? ", key" : "")}{(f.Export == "Omit" ? ", never exported" : "")})"));
                Invocation.AddRow(table, l.Module, l.Kind, l.Name, l.Strategy, retention, fields);
            }
            run.Write(table);
            return ExitCodes.Success;
        });
        return map;
    }

    // ---- Filing ---------------------------------------------------------------------------------------------------

    /// The person a privacy officer files for; without any, the caller asks for themself.
    private sealed class SubjectOptions
    {
        public Option<string> Email { get; } = new("--subject-email") { Description = "Privacy officers: the person's email address", HelpName = "EMAIL" };
        public Option<string> ObjectId { get; } = new("--subject-object-id") { Description = "Privacy officers: the person's object ID (a GUID)", HelpName = "GUID" };
        public Option<string> AuthorId { get; } = new("--subject-author-id") { Description = "Privacy officers: the person's gallery author ID (64 hexadecimal characters)", HelpName = "ID" };
        public Option<string> Verification { get; } = new("--verification") { Description = "How the person's identity was checked; required with a --subject-* option", HelpName = "TEXT" };

        public Option[] All => [Email, ObjectId, AuthorId, Verification];

        public (PrivacySubject? Subject, string? Verification) Read(Invocation run)
        {
            var email = run.Value(Email);
            var objectId = run.Value(ObjectId);
            var authorId = run.Value(AuthorId);
            var given = new[] { email, objectId, authorId }.Count(v => v is not null);
            if (given == 0)
            {
                return (null, run.Value(Verification));
            }
            if (given > 1)
            {
                throw CliException.Usage("Name the person with one of --subject-email, --subject-object-id or --subject-author-id, not several.");
            }
            Guid? id = null;
            if (objectId is not null)
            {
                // The value is not echoed: it may be personal data typed in the wrong option.
                id = Guid.TryParse(objectId, out var parsed) ? parsed : throw CliException.Usage("--subject-object-id is an object ID: a GUID.");
            }
            var verification = run.Value(Verification);
            if (string.IsNullOrWhiteSpace(verification))
            {
                throw CliException.Usage("--verification is required when filing for someone else: say how the person's identity was checked.",
                    "For example: --verification \"Identity card checked at the service desk\".");
            }
            return (new PrivacySubject(email, id, authorId), verification);
        }
    }

    private static Command Export(Terminal terminal, CommonOptions options)
    {
        var subject = new SubjectOptions();
        var output = new Option<string>("--out") { Description = "Where to write the bundle (a .zip file); required unless --no-wait", HelpName = "FILE" };
        var noWait = new Option<bool>("--no-wait") { Description = "File the request and print its ID, without waiting for the bundle" };
        var export = new Command("export", "Export your personal data (or, as a privacy officer, a person's) as a zip bundle, and verify it")
            .With([.. subject.All, output, noWait, options.Server, options.Output]);
        export.Handle(terminal, options, async (run, ct) =>
        {
            var (person, verification) = subject.Read(run);
            string? target = null;
            if (!run.Value(noWait))
            {
                target = Target(run.Value(output));
            }
            else if (run.Value(output) is not null)
            {
                throw CliException.Usage("--out and --no-wait do not go together: with --no-wait nothing is downloaded.", "Download the bundle later with `lethe privacy bundle download ID --out FILE`.");
            }
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var filed = await connection.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest(PrivacyRequestTypes.Export, person, Verification: verification), ct);
            if (target is null)
            {
                await WriteFiledAsync(run, filed);
                return ExitCodes.Success;
            }
            var done = await WaitAsync(run, connection, filed.Id, "Exporting", ct);
            if (!await EndedWellAsync(run, done))
            {
                return ExitCodes.Failed;
            }
            return await DownloadAndVerifyAsync(run, connection, done, target, ct);
        });
        return export;
    }

    private static Command Erase(Terminal terminal, CommonOptions options)
    {
        var subject = new SubjectOptions();
        var dryRun = new Option<bool>("--dry-run") { Description = "Change nothing: show what an erasure would do, location by location" };
        var anonymizeNow = new Option<bool>("--anonymize-now") { Description = "Anonymize at once what would otherwise be kept for a retention period" };
        var noWait = new Option<bool>("--no-wait") { Description = "File the request and print its ID, without waiting" };
        var erase = new Command("erase", "Ask for the erasure of your personal data (or, as a privacy officer, a person's); a privacy officer approves it before it runs")
            .With([.. subject.All, dryRun, anonymizeNow, noWait, options.Server, options.Output]);
        erase.Handle(terminal, options, async (run, ct) =>
        {
            var (person, verification) = subject.Read(run);
            var dry = run.Value(dryRun);
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var filed = await connection.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest(PrivacyRequestTypes.Erasure, person,
                DryRun: dry ? true : null, AnonymizeNow: run.Value(anonymizeNow) ? true : null, Verification: verification), ct);
            if (run.Value(noWait))
            {
                await WriteFiledAsync(run, filed);
                return ExitCodes.Success;
            }
            if (filed.Approval.State == ApprovalPending)
            {
                if (run.Json)
                {
                    await run.WriteJsonAsync(filed);
                }
                else
                {
                    await run.WriteLineAsync($"Erasure {filed.Id:D} filed. It waits for a privacy officer's approval (approval {filed.Approval.State}).");
                    await run.WriteLineAsync($"An officer approves it with `lethe privacy approve {filed.Id:D}`; `lethe privacy show {filed.Id:D}` follows it.");
                }
                return ExitCodes.Success;
            }
            PrivacyRequestResource done;
            try
            {
                done = await WaitAsync(run, connection, filed.Id, dry ? "Dry run" : "Erasing", ct);
            }
            catch (Exception e) when (e is LetheUnauthorizedException or CliException { ExitCode: ExitCodes.NotLoggedIn } && person is null && !dry)
            {
                // Erasing oneself ends one's own sessions first: the request goes on, but this login cannot follow it.
                await run.WriteLineAsync($"Erasure {filed.Id:D} has started and ended your sessions, as an erasure does first; it goes on without you. Your account cannot sign in any more.");
                return ExitCodes.Success;
            }
            return await EndedWellAsync(run, done) ? await WriteOutcomeAsync(run, done) : ExitCodes.Failed;
        });
        return erase;
    }

    // ---- Following and deciding -----------------------------------------------------------------------------------

    private static Command Requests(Terminal terminal, CommonOptions options)
    {
        var status = new Option<string>("--status") { Description = "Only the requests of this status: Received, Verified, Running, Completed, Failed, Denied or Cancelled", HelpName = "STATUS" };
        var mine = new Option<bool>("--mine") { Description = "Privacy officers: only your own requests, not everyone's" };
        var requests = new Command("requests", "List your privacy requests; a privacy officer sees everyone's, open ones first, the most overdue first")
            .With(status, mine, options.Server, options.Output);
        requests.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var items = await connection.Client.ListPrivacyRequestsAsync(run.Value(status), run.Value(mine), ct).ToListAsync(ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(items);
                return ExitCodes.Success;
            }
            if (items.Count == 0)
            {
                await run.WriteNothingAsync("No privacy requests.");
                return ExitCodes.Success;
            }
            var now = run.Terminal.Clock.GetUtcNow();
            // Never the subject: not even its hash, which says who asked twice.
            var table = Invocation.Table("Id", "Type", "Status", "Approval", "Received", "Due", "Overdue");
            foreach (var r in items)
            {
                Invocation.AddRow(table, r.Id.ToString("D"), Kind(r), r.Status, r.Approval.State, Time(r.ReceivedAt), Due(r, now), r.Overdue ? "yes" : "");
            }
            run.Write(table);
            return ExitCodes.Success;
        });
        return requests;
    }

    private static Command Show(Terminal terminal, CommonOptions options)
    {
        var id = RequestId();
        var wait = new Option<bool>("--wait") { Description = "First follow the request with a progress bar until it ends (or waits for an officer); exits 1 when it did not complete" };
        var show = new Command("show", "Show a privacy request: its steps, approval, outcome, failure and bundle") { id }.With(wait, options.Server, options.Output);
        show.Handle(terminal, options, async (run, ct) =>
        {
            var request = ParseId(run.Value(id));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var r = run.Value(wait)
                ? await WaitAsync(run, connection, request, "Waiting", ct)
                : await connection.Client.GetPrivacyRequestAsync(request, ct);
            var exit = !run.Value(wait) || r.Status == PrivacyRequestStatuses.Completed || r.Approval.State == ApprovalPending ? ExitCodes.Success : ExitCodes.Failed;
            if (run.Json)
            {
                await run.WriteJsonAsync(r);
                return exit;
            }
            var now = run.Terminal.Clock.GetUtcNow();
            run.Write(Invocation.Details(
                ("Request", r.Id.ToString("D")),
                ("Type", Kind(r) + (r.AnonymizeNow ? ", anonymize now" : "")),
                ("Status", r.Status),
                ("Filed by", r.FiledByOfficer ? "a privacy officer" : "the person"),
                ("Approval", Approval(r.Approval)),
                ("Received", Time(r.ReceivedAt)),
                ("Due", Due(r, now) + (r.Overdue ? ", overdue" : "")),
                ("Started", r.StartedAt is { } started ? Time(started) : null),
                ("Ended", r.CompletedAt is { } ended ? Time(ended) : null),
                ("Failed at", r.Failure?.Step),
                ("Failure", r.Failure?.Message),
                ("Bundle", r.Bundle is { } b ? $"{Size(b.Bytes)}, SHA-256 {b.Sha256}, kept until {Time(b.ExpiresAt)}" : null)));
            if (r.Steps.Count > 0)
            {
                await run.WriteLineAsync("");
                var steps = Invocation.Table("Step", "Status", "Records");
                foreach (var s in r.Steps)
                {
                    Invocation.AddRow(steps, s.Location, s.Status, s.Records.ToString(CultureInfo.InvariantCulture));
                }
                run.Write(steps);
            }
            await WriteResultsAsync(run, r);
            return exit;
        });
        return show;
    }

    private static Command Approve(Terminal terminal, CommonOptions options)
    {
        var id = RequestId();
        var reason = new Option<string>("--reason") { Description = "Why, for the record (optional)", HelpName = "TEXT" };
        var wait = new Option<bool>("--wait") { Description = "Follow the erasure with a progress bar until it ends, and show what was retained" };
        var approve = new Command("approve", "Privacy officers: approve a pending erasure; it runs at once") { id }.With(reason, wait, options.Server, options.Output);
        approve.Handle(terminal, options, async (run, ct) =>
        {
            var request = ParseId(run.Value(id));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var approved = await connection.Client.ApprovePrivacyRequestAsync(request, run.Value(reason), ct);
            return await AfterQueuedAsync(run, connection, approved, $"Approved {Kind(approved)} {approved.Id:D}: it runs now.", run.Value(wait), ct);
        });
        return approve;
    }

    private static Command Deny(Terminal terminal, CommonOptions options)
    {
        var id = RequestId();
        var reason = new Option<string>("--reason") { Description = "Why the erasure is denied; the person sees it", Required = true, HelpName = "TEXT" };
        var deny = new Command("deny", "Privacy officers: deny a pending erasure, saying why") { id }.With(reason, options.Server, options.Output);
        deny.Handle(terminal, options, async (run, ct) =>
        {
            var request = ParseId(run.Value(id));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var denied = await connection.Client.DenyPrivacyRequestAsync(request, run.Value(reason)!, ct);
            await WriteChangedAsync(run, denied, $"Denied {Kind(denied)} {denied.Id:D}.");
            return ExitCodes.Success;
        });
        return deny;
    }

    private static Command Cancel(Terminal terminal, CommonOptions options)
    {
        var id = RequestId();
        var cancel = new Command("cancel", "Cancel a request that has not started") { id }.With(options.Server, options.Output);
        cancel.Handle(terminal, options, async (run, ct) =>
        {
            var request = ParseId(run.Value(id));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var cancelled = await connection.Client.CancelPrivacyRequestAsync(request, ct);
            await WriteChangedAsync(run, cancelled, $"Cancelled {Kind(cancelled)} {cancelled.Id:D}.");
            return ExitCodes.Success;
        });
        return cancel;
    }

    private static Command Retry(Terminal terminal, CommonOptions options)
    {
        var id = RequestId();
        var wait = new Option<bool>("--wait") { Description = "Follow the request with a progress bar until it ends" };
        var retry = new Command("retry", "Run a failed request again; it resumes from the step that failed") { id }.With(wait, options.Server, options.Output);
        retry.Handle(terminal, options, async (run, ct) =>
        {
            var request = ParseId(run.Value(id));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var queued = await connection.Client.RetryPrivacyRequestAsync(request, ct);
            return await AfterQueuedAsync(run, connection, queued, $"{Capitalized(Kind(queued))} {queued.Id:D} runs again from the step that failed.", run.Value(wait), ct);
        });
        return retry;
    }

    /// After an approval or a retry: the request is queued; with --wait, followed to its end.
    private static async Task<int> AfterQueuedAsync(Invocation run, ServerConnection connection, PrivacyRequestResource queued, string message, bool wait, CancellationToken ct)
    {
        if (!wait)
        {
            await WriteChangedAsync(run, queued, message + $" Follow it with `lethe privacy show {queued.Id:D}`.");
            return ExitCodes.Success;
        }
        var done = await WaitAsync(run, connection, queued.Id, queued.Type == PrivacyRequestTypes.Export ? "Exporting" : "Erasing", ct);
        if (!await EndedWellAsync(run, done))
        {
            return ExitCodes.Failed;
        }
        if (done.Type == PrivacyRequestTypes.Export)
        {
            await WriteChangedAsync(run, done, $"Export {done.Id:D} completed: download its bundle with `lethe privacy bundle download {done.Id:D} --out FILE`.");
            return ExitCodes.Success;
        }
        return await WriteOutcomeAsync(run, done);
    }

    // ---- Bundles --------------------------------------------------------------------------------------------------

    private static Command Bundle(Terminal terminal, CommonOptions options)
    {
        var file = new Argument<string>("FILE") { Description = "The bundle (.zip)" };
        var verify = new Command("verify", "Check a downloaded export bundle, offline: every file against manifest.json's size and SHA-256, and nothing unlisted") { file }
            .With(options.Output);
        verify.Handle(terminal, options, async (run, ct) =>
        {
            var path = run.Value(file)!;
            if (Directory.Exists(path))
            {
                throw new CliException($"{path} is a folder, not a bundle (.zip).");
            }
            if (!File.Exists(path))
            {
                throw new CliException($"{path} does not exist.");
            }
            return await VerifyAsync(run, path, null, ct);
        });

        var id = RequestId();
        var output = new Option<string>("--out") { Description = "Where to write the bundle (a .zip file)", Required = true, HelpName = "FILE" };
        var download = new Command("download", "Download the bundle of a completed export, and verify it") { id }.With(output, options.Server, options.Output);
        download.Handle(terminal, options, async (run, ct) =>
        {
            var request = ParseId(run.Value(id));
            var target = Target(run.Value(output));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var r = await connection.Client.GetPrivacyRequestAsync(request, ct);
            return await DownloadAndVerifyAsync(run, connection, r, target, ct);
        });

        return Cli.Group("bundle", "Export bundles: download and verify", download, verify);
    }

    /// The full path of --out, once its folder is known to exist (checked before anything is filed).
    private static string Target(string? output)
    {
        if (string.IsNullOrWhiteSpace(output))
        {
            throw CliException.Usage("--out is required: where to write the bundle (a .zip file).", "Or file the request only, with --no-wait.");
        }
        var target = Path.GetFullPath(output);
        if (Directory.Exists(target))
        {
            throw CliException.Usage($"--out names a folder ({target}); name the .zip file to write.");
        }
        var folder = Path.GetDirectoryName(target);
        if (folder is null || !Directory.Exists(folder))
        {
            throw CliException.Usage($"The folder of --out does not exist: {folder}.");
        }
        return target;
    }

    private static async Task<int> DownloadAndVerifyAsync(Invocation run, ServerConnection connection, PrivacyRequestResource request, string target, CancellationToken ct)
    {
        var bytes = await DownloadAsync(run, connection, request, target, ct);
        if (!run.Json)
        {
            await run.WriteLineAsync($"Export {request.Id:D} completed; its bundle ({Size(bytes)}) is at {target}.");
        }
        return await VerifyAsync(run, target, request, ct);
    }

    /// Downloads to a temporary file beside the target, readable by the user only (it holds personal data), checks it
    /// against the size and SHA-256 the server recorded, and only then renames it: a failed or interrupted download
    /// leaves no half file.
    private static async Task<long> DownloadAsync(Invocation run, ServerConnection connection, PrivacyRequestResource request, string target, CancellationToken ct)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.part");
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            var (bytes, sha256) = await run.WithProgressAsync("Downloading the bundle", request.Bundle?.Bytes ?? 1, async report =>
            {
                using var response = await connection.Client.DownloadPrivacyBundleAsync(request.Id, ct);
                await using var source = await response.Content.ReadAsStreamAsync(ct);
                await using var file = new FileStream(temporary, create);
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[81920];
                long done = 0;
                int read;
                while ((read = await source.ReadAsync(buffer, ct)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                    hash.AppendData(buffer, 0, read);
                    done += read;
                    report(done);
                }
                return (done, Convert.ToHexStringLower(hash.GetHashAndReset()));
            });
            if (request.Bundle is { } expected && (expected.Bytes != bytes || !string.Equals(expected.Sha256, sha256, StringComparison.OrdinalIgnoreCase)))
            {
                throw new CliException($"The download ({bytes} bytes, SHA-256 {sha256}) is not the bundle the server recorded ({expected.Bytes} bytes, SHA-256 {expected.Sha256}); nothing was written. Try again.");
            }
            File.Move(temporary, target, overwrite: true);
            return bytes;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static async Task<int> VerifyAsync(Invocation run, string path, PrivacyRequestResource? request, CancellationToken ct)
    {
        var result = await BundleVerifier.VerifyAsync(path, ct);
        if (run.Json)
        {
            await run.WriteJsonAsync(new { request, path, result.Files, result.Bytes, result.RequestId, result.IsValid, result.Problems });
        }
        else if (result.IsValid)
        {
            var of = result.RequestId is { } id ? $" of request {id:D}" : "";
            await run.WriteLineAsync($"Verified the bundle{of}: {result.Files} files ({Size(result.Bytes)} unpacked), every size and SHA-256 as manifest.json states, nothing unlisted.");
        }
        else if (result.Problems.Count == 1)
        {
            await run.WriteErrorAsync($"{path} does not verify: {result.Problems[0]}", null);
        }
        else
        {
            await run.WriteErrorAsync($"{path} does not verify: {result.Problems.Count} problems.", null);
            foreach (var problem in result.Problems)
            {
                await run.Terminal.Error.WriteLineAsync($"  {problem}");
            }
        }
        return result.IsValid ? ExitCodes.Success : ExitCodes.Failed;
    }

    // ---- Shared ---------------------------------------------------------------------------------------------------

    private static Argument<string> RequestId() => new("ID") { Description = "The request's ID (a GUID), as `lethe privacy requests` lists it" };

    private static Guid ParseId(string? value)
        // The value is not echoed: someone may type a person's email where the ID goes.
        => Guid.TryParse(value, out var id) ? id : throw CliException.Usage("A request ID is a GUID, as `lethe privacy requests` lists it.");

    /// Polls until the request ends or waits for an officer, with a progress bar (the share of its steps done) on a terminal.
    private static Task<PrivacyRequestResource> WaitAsync(Invocation run, ServerConnection connection, Guid id, string description, CancellationToken ct)
        => run.WithProgressAsync(description, 100, report =>
            connection.Client.WaitForPrivacyRequestAsync(id, new InlineProgress<int>(p => report(p)), PollInterval, untilApprovalNeeded: true, ct));

    /// True when the request completed; otherwise says how it ended (or that it waits for an officer).
    private static async Task<bool> EndedWellAsync(Invocation run, PrivacyRequestResource r)
    {
        if (r.Status == PrivacyRequestStatuses.Completed)
        {
            return true;
        }
        if (run.Json)
        {
            await run.WriteJsonAsync(r);
        }
        var (message, hint) = r.Status switch
        {
            PrivacyRequestStatuses.Failed => ($"The {Kind(r)} {r.Id:D} failed at the step \"{r.Failure?.Step}\": {r.Failure?.Message}", $"`lethe privacy retry {r.Id:D}` resumes it from that step."),
            PrivacyRequestStatuses.Denied => ($"The {Kind(r)} {r.Id:D} was denied: {r.Approval.Reason}", null),
            PrivacyRequestStatuses.Cancelled => ($"The {Kind(r)} {r.Id:D} was cancelled.", null),
            _ => ($"The {Kind(r)} {r.Id:D} is {r.Status} and its approval {r.Approval.State}.", $"`lethe privacy show {r.Id:D}` follows it."),
        };
        await run.WriteErrorAsync(message, hint);
        return false;
    }

    /// A completed erasure or dry run: what happened (or would) and what was retained.
    private static async Task<int> WriteOutcomeAsync(Invocation run, PrivacyRequestResource r)
    {
        if (run.Json)
        {
            await run.WriteJsonAsync(r);
            return ExitCodes.Success;
        }
        await run.WriteLineAsync(r.DryRun
            ? $"Dry run {r.Id:D} completed; nothing was changed. An erasure would do this:"
            : $"Erasure {r.Id:D} completed.");
        await WriteResultsAsync(run, r);
        return ExitCodes.Success;
    }

    private static async Task WriteResultsAsync(Invocation run, PrivacyRequestResource r)
    {
        if (r.Preview is { Count: > 0 } preview)
        {
            await run.WriteLineAsync("");
            var table = Invocation.Table("Module", "Location", "Outcome", "Records", "Date/Reason");
            foreach (var p in preview)
            {
                var when = string.Join("; ", new[] { p.Date is { } date ? Day(date) : null, p.Reason }.Where(s => !string.IsNullOrWhiteSpace(s)));
                Invocation.AddRow(table, p.Module, p.Location, p.Outcome, p.Records.ToString(CultureInfo.InvariantCulture), when);
            }
            run.Write(table);
        }
        if (r.Retained is { } retained && r.Status == PrivacyRequestStatuses.Completed)
        {
            await run.WriteLineAsync("");
            if (retained.Count == 0)
            {
                await run.WriteLineAsync("Nothing was retained.");
                return;
            }
            await run.WriteLineAsync("Retained by a declared rule:");
            var table = Invocation.Table("Module", "Location", "Records", "Until", "Reason");
            foreach (var k in retained)
            {
                Invocation.AddRow(table, k.Module, k.Location, k.Records.ToString(CultureInfo.InvariantCulture), k.Until is { } until ? Day(until) : "", k.Reason);
            }
            run.Write(table);
        }
    }

    private static async Task WriteFiledAsync(Invocation run, PrivacyRequestResource filed)
    {
        if (run.Json)
        {
            await run.WriteJsonAsync(filed);
            return;
        }
        // The ID alone, for a script: `id=$(lethe privacy export --no-wait)`.
        await run.WriteLineAsync(filed.Id.ToString("D"));
    }

    private static async Task WriteChangedAsync(Invocation run, PrivacyRequestResource r, string message)
    {
        if (run.Json)
        {
            await run.WriteJsonAsync(r);
            return;
        }
        await run.WriteLineAsync(message);
    }

    private static string Kind(PrivacyRequestResource r)
        => r.Type == PrivacyRequestTypes.Erasure ? (r.DryRun ? "erasure dry run" : "erasure") : r.Type.ToLowerInvariant();

    private static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static string Approval(PrivacyApproval a)
    {
        var parts = new List<string> { a.State };
        if (a.By is { } by)
        {
            parts.Add($"by {by:D}");
        }
        if (a.At is { } at)
        {
            parts.Add($"at {Time(at)}");
        }
        var text = string.Join(" ", parts);
        return a.Reason is { Length: > 0 } reason ? $"{text}: {reason}" : text;
    }

    /// The due date, and for an open request the days left (or how late it is).
    private static string Due(PrivacyRequestResource r, DateTimeOffset now)
    {
        var day = Day(r.DueAt);
        if (PrivacyRequestStatuses.IsEnded(r.Status))
        {
            return day;
        }
        var days = (int)Math.Ceiling((r.DueAt - now).TotalDays);
        return days switch
        {
            > 1 => $"{day} ({days} days left)",
            1 => $"{day} (1 day left)",
            0 => $"{day} (due today)",
            -1 => $"{day} (1 day late)",
            _ => $"{day} ({-days} days late)",
        };
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("u", CultureInfo.InvariantCulture);

    private static string Day(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.##} GB"),
    };
}
