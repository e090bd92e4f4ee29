using System.Security.Cryptography;
using System.Text.Json;
using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Lethe.Labs;

/// Seed 002's auto-shutdown: each VM shuts down daily at its own time or its lab's (in the lab's time
/// zone). The notice goes to the VM's email (else the lab's) the lab's notice time before, with a link
/// to postpone or skip; then the shutdown happens, later, or not, as the user chose. Runs every minute.
public sealed partial class AutoShutdown(LetheDb db, TimeProvider clock, LabMail mail, ILogger<AutoShutdown> logger) : RecurringJob(db, clock, logger)
{
    public const string JobKind = "labs.auto-shutdown";

    /// A shutdown whose time passed less than this long ago still gets its notice and happens.
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    public override string Kind => JobKind;

    public override TimeSpan Interval => TimeSpan.FromMinutes(1);

    /// The decision: the scheduled shutdown to consider now, the first at or after now minus the tolerance.
    public static DateTimeOffset NextShutdown(TimeOnly time, TimeZoneInfo zone, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var from = now - Tolerance;
        var localDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(from, zone).DateTime);
        for (var d = 0; d < 3; d++)
        {
            var local = localDay.AddDays(d).ToDateTime(time, DateTimeKind.Unspecified);
            while (zone.IsInvalidTime(local))
            {
                local = local.AddMinutes(30);
            }
            var at = new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
            if (at >= from)
            {
                return at;
            }
        }
        throw new InvalidOperationException("No shutdown time within three days.");
    }

    public static bool NoticeDue(DateTimeOffset scheduled, int noticeMinutes, DateTimeOffset now)
        => now >= scheduled - TimeSpan.FromMinutes(noticeMinutes);

    public static string HashToken(string token)
        => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));

    /// <paramref name="NextDue"/>: when the next notice, email retry or shutdown falls due (the next run then).
    public sealed record Counts(int Notices, int EmailsSent, int ShutDown, DateTimeOffset? NextDue = null);

    protected override async Task<string> SweepAsync(CancellationToken ct)
        => JsonSerializer.Serialize(await RunAsync(Clock.GetUtcNow(), ct), JobQueue.Json);

    /// A daily shutdown time and whom it applies to: a lab's VMs without a time of their own, or those of its VMs
    /// that set this time themselves.
    private sealed record Schedule(Guid LabId, TimeOnly Time, bool Own);

    /// VMs considered per query: the sweep's memory is one page, however many VMs have a schedule.
    internal const int PageSize = 500;

    /// Attempts to send one notice's email; after them it is shown as failed with no next try.
    public const int MaxMailAttempts = 6;

    /// One run: notices that are due, failed emails whose next try is due, then shutdowns that are due.
    /// Each VM is one record: a VM whose notice or shutdown keeps failing is set aside and reported, and
    /// the other VMs go on. The run also finds when the next notice, retry or shutdown is due, and the
    /// next run is brought forward to that moment (<see cref="RecurringJob.NextDue"/>): a notice goes out
    /// its lab's minutes before the shutdown, not at the next minute's run.
    public async Task<Counts> RunAsync(DateTimeOffset now, CancellationToken ct)
    {
        var notices = 0;
        var sent = 0;
        DateTimeOffset? nextDue = null;
        void Due(DateTimeOffset at) => nextDue = nextDue is { } d && d <= at ? d : at;
        var setAside = SetAsideKeys;
        var labs = new Dictionary<Guid, (Lab Lab, TimeZoneInfo Zone)>();
        async Task<(Lab Lab, TimeZoneInfo Zone)> LabAsync(Guid labId, CancellationToken token)
        {
            if (!labs.TryGetValue(labId, out var labAndZone))
            {
                var found = await Db.Labs.AsNoTracking().FirstAsync(l => l.Id == labId, token);
                labAndZone = (found, TimeZoneInfo.FindSystemTimeZoneById(found.TimeZoneId));
                labs[labId] = labAndZone;
            }
            return labAndZone;
        }
        // The schedules in force, not the VMs: each lab's own time (for its VMs without one) and each time VMs
        // of a lab set themselves (one index range). All VMs of a schedule share its next shutdown, so a schedule
        // whose notice is not yet due costs one comparison, however many VMs follow it (issue 14: a lab of a
        // million scheduled VMs is not read every minute).
        var schedules = await Db.Labs.AsNoTracking().Where(l => l.ShutdownTime != null)
            .Select(l => new Schedule(l.Id, l.ShutdownTime!.Value, false)).ToListAsync(ct);
        schedules.AddRange(await Db.LabVirtualMachines.AsNoTracking().Where(v => v.ShutdownTime != null && v.DeletedAt == null && v.Running)
            .Select(v => new { v.ShutdownTime, v.LabId }).Distinct()
            .Select(v => new Schedule(v.LabId, v.ShutdownTime!.Value, true)).ToListAsync(ct));
        foreach (var schedule in schedules)
        {
            Lab? lab = null;
            DateTimeOffset scheduled = default;
            Exception? broken = null;
            try
            {
                (lab, var zone) = await LabAsync(schedule.LabId, ct);
                scheduled = NextShutdown(schedule.Time, zone, now);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A schedule that cannot be worked out (a time zone this machine does not know) fails its VMs'
                // records below, so that they are set aside and reported like any VM that keeps failing.
                broken = e;
            }
            if (broken is null && !NoticeDue(scheduled, lab!.ShutdownNoticeMinutes, now))
            {
                Due(scheduled - TimeSpan.FromMinutes(lab.ShutdownNoticeMinutes));
                continue;
            }
            // The schedule's running VMs that have no notice for this shutdown yet, in keyset pages on the
            // primary key: a page's notices take its VMs out of the next run's pages, never out of this run's.
            Guid? after = null;
            while (true)
            {
                var query = Db.LabVirtualMachines.AsNoTracking()
                    .Where(v => v.LabId == schedule.LabId && v.DeletedAt == null && v.Running && !setAside.Contains(v.Id.ToString().ToLower()));
                var time = schedule.Time;
                query = schedule.Own ? query.Where(v => v.ShutdownTime == time) : query.Where(v => v.ShutdownTime == null);
                if (broken is null)
                {
                    query = query.Where(v => !Db.LabShutdownNotices.Any(n => n.VmId == v.Id && n.ScheduledFor == scheduled));
                }
                if (after is { } last)
                {
                    query = query.Where(v => v.Id.CompareTo(last) > 0);
                }
                var page = await query.OrderBy(v => v.Id).Take(PageSize).ToListAsync(ct);
                if (page.Count == 0)
                {
                    break;
                }
                after = page[^1].Id;
                foreach (var vm in page)
                {
                    await TryRecordAsync(vm.Id.ToString(), async token =>
                    {
                        if (broken is not null)
                        {
                            throw new InvalidOperationException($"The VM's shutdown schedule cannot be worked out: {broken.Message}", broken);
                        }
                        var (notified, mailed) = await NotifyAsync(vm, lab!, scheduled, now, token);
                        notices += notified ? 1 : 0;
                        sent += mailed ? 1 : 0;
                    }, ct);
                }
                // The notices of this page are saved; tracking them further would grow with the lab.
                Db.ChangeTracker.Clear();
            }
        }
        sent += await RetryMailAsync(now, setAside, LabAsync, ct);
        // Due shutdowns, notified or postponed ones whose time has come: two set-based statements; if they fail,
        // one VM at a time, so that a VM that cannot be shut down is set aside and the others are.
        var due = Db.LabShutdownNotices
            .Where(n => (n.State == ShutdownNoticeState.Notified || n.State == ShutdownNoticeState.Postponed) && n.ShutdownAt <= now
                && !setAside.Contains(n.VmId.ToString().ToLower()));
        int shutDown;
        try
        {
            await using var transaction = await Db.Database.BeginTransactionAsync(ct);
            // Driven by the due notices (an index range) and their VMs' keys: an EXISTS per VM would visit every VM.
            var dueVms = due.Select(n => n.VmId);
            await Db.LabVirtualMachines.Where(v => dueVms.Contains(v.Id))
                .ExecuteUpdateAsync(set => set.SetProperty(v => v.Running, false), ct);
            shutDown = await due.ExecuteUpdateAsync(set => set.SetProperty(n => n.State, ShutdownNoticeState.ShutDown), ct);
            await transaction.CommitAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Db.ChangeTracker.Clear();
            shutDown = 0;
            foreach (var notice in await due.Select(n => new { n.Id, n.VmId }).Take(PageSize * 20).ToListAsync(ct))
            {
                var done = await TryRecordAsync(notice.VmId.ToString(), async token =>
                {
                    await using var transaction = await Db.Database.BeginTransactionAsync(token);
                    await Db.LabVirtualMachines.Where(v => v.Id == notice.VmId).ExecuteUpdateAsync(set => set.SetProperty(v => v.Running, false), token);
                    await Db.LabShutdownNotices.Where(n => n.Id == notice.Id).ExecuteUpdateAsync(set => set.SetProperty(n => n.State, ShutdownNoticeState.ShutDown), token);
                    await transaction.CommitAsync(token);
                }, ct);
                shutDown += done ? 1 : 0;
            }
        }
        // The next shutdown and the next retry of a failed email: one index seek each.
        var open = Db.LabShutdownNotices.Where(n => n.State == ShutdownNoticeState.Notified || n.State == ShutdownNoticeState.Postponed);
        if (await open.Where(n => n.ShutdownAt > now).OrderBy(n => n.ShutdownAt).Select(n => (DateTimeOffset?)n.ShutdownAt).FirstOrDefaultAsync(ct) is { } nextShutdown)
        {
            Due(nextShutdown);
        }
        if (await open.Where(n => n.MailState == NoticeMailState.Failed && n.MailNextAttemptAt != null).OrderBy(n => n.MailNextAttemptAt).Select(n => n.MailNextAttemptAt).FirstOrDefaultAsync(ct) is { } nextRetry)
        {
            Due(nextRetry);
        }
        NextDue = nextDue;
        return new Counts(notices, sent, shutDown, nextDue);
    }

    private async Task<(bool Notified, bool Mailed)> NotifyAsync(LabVirtualMachine vm, Lab lab, DateTimeOffset scheduled, DateTimeOffset now, CancellationToken ct)
    {
        if (await Db.LabShutdownNotices.AnyAsync(n => n.VmId == vm.Id && n.ScheduledFor == scheduled, ct))
        {
            return (false, false);
        }
        var to = NotificationEmails.For(lab, vm);
        var token = ShutdownNotices.NewToken();
        var notice = new LabShutdownNotice
        {
            Id = Guid.CreateVersion7(now),
            VmId = vm.Id,
            ScheduledFor = scheduled,
            ShutdownAt = scheduled,
            State = ShutdownNoticeState.Notified,
            TokenHash = HashToken(token),
            CreatedAt = now,
            MailState = to is null ? NoticeMailState.NoAddress : mail.Enabled ? NoticeMailState.Pending : NoticeMailState.NoMailServer,
        };
        Db.LabShutdownNotices.Add(notice);
        await Db.SaveChangesAsync(ct);
        if (notice.MailState == NoticeMailState.NoMailServer)
        {
            LogNoMailServer(Logger, vm.Id);
        }
        return (true, notice.MailState == NoticeMailState.Pending && await SendAsync(notice, to!, lab, vm, token, now, ct));
    }

    /// Failed emails whose next try is due, while their shutdown is ahead: each with a new link (the old
    /// one never reached anybody).
    private async Task<int> RetryMailAsync(DateTimeOffset now, IQueryable<string> setAside, Func<Guid, CancellationToken, Task<(Lab Lab, TimeZoneInfo Zone)>> labOf, CancellationToken ct)
    {
        var sent = 0;
        var retries = await Db.LabShutdownNotices.AsNoTracking()
            .Where(n => n.MailState == NoticeMailState.Failed && n.MailNextAttemptAt != null && n.MailNextAttemptAt <= now
                && (n.State == ShutdownNoticeState.Notified || n.State == ShutdownNoticeState.Postponed) && !setAside.Contains(n.VmId.ToString().ToLower()))
            .OrderBy(n => n.MailNextAttemptAt).Select(n => new { n.Id, n.VmId }).Take(PageSize).ToListAsync(ct);
        foreach (var retry in retries)
        {
            await TryRecordAsync(retry.VmId.ToString(), async token =>
            {
                var notice = await Db.LabShutdownNotices.FirstAsync(n => n.Id == retry.Id, token);
                var vm = await Db.LabVirtualMachines.AsNoTracking().FirstAsync(v => v.Id == notice.VmId, token);
                var (lab, _) = await labOf(vm.LabId, token);
                var to = NotificationEmails.For(lab, vm);
                if (to is null || !mail.Enabled)
                {
                    notice.MailState = to is null ? NoticeMailState.NoAddress : NoticeMailState.NoMailServer;
                    notice.MailNextAttemptAt = null;
                    await Db.SaveChangesAsync(token);
                    return;
                }
                var link = ShutdownNotices.NewToken();
                notice.TokenHash = HashToken(link);
                sent += await SendAsync(notice, to, lab, vm, link, now, token) ? 1 : 0;
            }, ct);
            Db.ChangeTracker.Clear();
        }
        return sent;
    }

    /// One attempt: the notice (tracked) records it, sent or failed with its next try.
    private async Task<bool> SendAsync(LabShutdownNotice notice, string to, Lab lab, LabVirtualMachine vm, string token, DateTimeOffset now, CancellationToken ct)
    {
        notice.MailAttempts++;
        try
        {
            await mail.SendAsync(mail.ComposeNotice(to, lab, vm, notice.ShutdownAt, token), ct);
            notice.EmailSentAt = now;
            notice.MailState = NoticeMailState.Sent;
            notice.MailNextAttemptAt = null;
            notice.MailLastError = null;
            await Db.SaveChangesAsync(ct);
            return true;
        }
        catch (Exception e) when (e is MailKit.ServiceNotConnectedException or MailKit.Net.Smtp.SmtpCommandException or MailKit.Net.Smtp.SmtpProtocolException or MailKit.Security.AuthenticationException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            // The shutdown still happens on time; the failure is logged by VM, never by address.
            LogMailFailed(Logger, e, vm.Id, notice.MailAttempts);
            notice.MailState = NoticeMailState.Failed;
            notice.MailLastError = MailError(e);
            notice.MailNextAttemptAt = NextMailAttempt(notice.MailAttempts, now, notice.ShutdownAt);
            await Db.SaveChangesAsync(CancellationToken.None);
            return false;
        }
    }

    /// The decision: when a failed email is tried again (backoff from 10 s, doubling), or null when it is
    /// not (attempts used up, or the shutdown would come first).
    public static DateTimeOffset? NextMailAttempt(int attempts, DateTimeOffset now, DateTimeOffset shutdownAt)
    {
        if (attempts >= MaxMailAttempts)
        {
            return null;
        }
        var at = now + Backoff.For(attempts);
        return at < shutdownAt ? at : null;
    }

    /// Why a send failed, in Lethe's words: the SMTP server's own text may repeat the address.
    public static string MailError(Exception e) => e switch
    {
        MailKit.Net.Smtp.SmtpCommandException command => $"The SMTP server refused the message (status {(int)command.StatusCode}).",
        MailKit.Security.AuthenticationException => "The SMTP server refused Lethe's user name or password.",
        MailKit.Net.Smtp.SmtpProtocolException => "The SMTP server answered outside the protocol.",
        _ => "The SMTP server could not be reached.",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "The auto-shutdown notice of VM {VmId} could not be sent (attempt {Attempt}).")]
    private static partial void LogMailFailed(ILogger logger, Exception e, Guid vmId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The auto-shutdown notice of VM {VmId} is recorded but not emailed: no SMTP server is configured (Lethe:Smtp:Host). The VM's page in the portal shows it.")]
    private static partial void LogNoMailServer(ILogger logger, Guid vmId);
}

/// What a notice lets its holder do: postpone the shutdown (by up to <see cref="MaxPostponeMinutes"/>
/// after its scheduled time) or skip it. The link in the email acts by its token; the VM's owner and lab
/// admins act from the VM's page (or its API) on the VM's pending shutdown.
public static class ShutdownNotices
{
    /// How long a shutdown can be postponed, from its scheduled time: the API, the portal and docs/labs.md say the same.
    public const int MinPostponeMinutes = 1;
    public const int MaxPostponeMinutes = 240;

    /// What the portal offers.
    public static readonly IReadOnlyList<int> PostponeChoices = [30, 60, 120, 240];

    public static string PostponeLimits => $"minutes is between {MinPostponeMinutes} and {MaxPostponeMinutes} (4 hours) after the scheduled shutdown.";

    public enum Outcome
    {
        Done,
        NotFound,
        AlreadyShutDown,
        InvalidMinutes,
        /// A skipped shutdown stays skipped: postponing it would bring it back.
        Skipped,
    }

    public static string NewToken()
        => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).Replace('+', '-').Replace('/', '_').TrimEnd('=');

    public static async Task<(LabShutdownNotice? Notice, LabVirtualMachine? Vm, Lab? Lab)> FindAsync(LetheDb db, string token, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (string.IsNullOrEmpty(token) || token.Length > 100)
        {
            return (null, null, null);
        }
        var hash = AutoShutdown.HashToken(token);
        var notice = await db.LabShutdownNotices.AsNoTracking().FirstOrDefaultAsync(n => n.TokenHash == hash, ct);
        if (notice is null)
        {
            return (null, null, null);
        }
        var vm = await db.LabVirtualMachines.AsNoTracking().Include(v => v.Lab).FirstAsync(v => v.Id == notice.VmId, ct);
        return (notice, vm, vm.Lab);
    }

    public static async Task<Outcome> PostponeAsync(LetheDb db, string token, int minutes, CancellationToken ct)
    {
        if (minutes is < MinPostponeMinutes or > MaxPostponeMinutes)
        {
            return Outcome.InvalidMinutes;
        }
        var (notice, _, _) = await FindAsync(db, token, ct);
        return notice is null ? Outcome.NotFound : await PostponeAsync(db, notice, minutes, ct);
    }

    public static async Task<Outcome> SkipAsync(LetheDb db, string token, CancellationToken ct)
    {
        var (notice, _, _) = await FindAsync(db, token, ct);
        return notice is null ? Outcome.NotFound : await SkipAsync(db, notice, ct);
    }

    /// Postpones an open shutdown to its scheduled time plus <paramref name="minutes"/>. The update is
    /// conditional on the state, so a postpone racing a skip or the shutdown cannot undo either.
    public static async Task<Outcome> PostponeAsync(LetheDb db, LabShutdownNotice notice, int minutes, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(notice);
        if (minutes is < MinPostponeMinutes or > MaxPostponeMinutes)
        {
            return Outcome.InvalidMinutes;
        }
        var at = notice.ScheduledFor.AddMinutes(minutes);
        var updated = await db.LabShutdownNotices
            .Where(n => n.Id == notice.Id && (n.State == ShutdownNoticeState.Notified || n.State == ShutdownNoticeState.Postponed))
            .ExecuteUpdateAsync(set => set.SetProperty(n => n.ShutdownAt, at).SetProperty(n => n.State, ShutdownNoticeState.Postponed), ct);
        return updated == 1 ? Outcome.Done : await WhyClosedAsync(db, notice.Id, ct);
    }

    /// Skips an open shutdown; skipping a skipped one again changes nothing.
    public static async Task<Outcome> SkipAsync(LetheDb db, LabShutdownNotice notice, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(notice);
        var updated = await db.LabShutdownNotices
            .Where(n => n.Id == notice.Id && (n.State == ShutdownNoticeState.Notified || n.State == ShutdownNoticeState.Postponed))
            .ExecuteUpdateAsync(set => set.SetProperty(n => n.State, ShutdownNoticeState.Skipped), ct);
        if (updated == 1)
        {
            return Outcome.Done;
        }
        var why = await WhyClosedAsync(db, notice.Id, ct);
        return why == Outcome.Skipped ? Outcome.Done : why;
    }

    private static async Task<Outcome> WhyClosedAsync(LetheDb db, Guid noticeId, CancellationToken ct)
        => await db.LabShutdownNotices.Where(n => n.Id == noticeId).Select(n => (ShutdownNoticeState?)n.State).FirstOrDefaultAsync(ct) switch
        {
            ShutdownNoticeState.Skipped => Outcome.Skipped,
            ShutdownNoticeState.ShutDown => Outcome.AlreadyShutDown,
            null => Outcome.NotFound,
            _ => Outcome.Done,
        };
}
