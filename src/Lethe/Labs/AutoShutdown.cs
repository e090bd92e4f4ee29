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

    public sealed record Counts(int Notices, int EmailsSent, int ShutDown);

    protected override async Task<string> SweepAsync(CancellationToken ct)
        => JsonSerializer.Serialize(await RunAsync(Clock.GetUtcNow(), ct), JobQueue.Json);

    /// VMs considered per query: the sweep's memory is one page, however many VMs have a schedule.
    internal const int PageSize = 500;

    /// One run: notices that are due, then shutdowns that are due. Each VM is one record: a VM whose
    /// notice or shutdown keeps failing is set aside and reported, and the other VMs go on.
    public async Task<Counts> RunAsync(DateTimeOffset now, CancellationToken ct)
    {
        var notices = 0;
        var sent = 0;
        var setAside = (await SetAsideKeysAsync(ct)).Select(Guid.Parse).ToList();
        // Keyset paging on the primary key: each page is an index range, and no page depends on the
        // notices added before it (the filter does not involve them).
        var labs = new Dictionary<Guid, (Lab Lab, TimeZoneInfo Zone)>();
        Guid? after = null;
        while (true)
        {
            var query = Db.LabVirtualMachines.AsNoTracking()
                .Where(v => v.DeletedAt == null && v.Running && (v.ShutdownTime != null || v.Lab!.ShutdownTime != null) && !setAside.Contains(v.Id));
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
                    if (!labs.TryGetValue(vm.LabId, out var labAndZone))
                    {
                        var found = await Db.Labs.AsNoTracking().FirstAsync(l => l.Id == vm.LabId, token);
                        labAndZone = (found, TimeZoneInfo.FindSystemTimeZoneById(found.TimeZoneId));
                        labs[vm.LabId] = labAndZone;
                    }
                    var (notified, mailed) = await NotifyAsync(vm, labAndZone.Lab, labAndZone.Zone, now, token);
                    notices += notified ? 1 : 0;
                    sent += mailed ? 1 : 0;
                }, ct);
            }
            // The notices of this page are saved; tracking them further would grow with the lab.
            Db.ChangeTracker.Clear();
        }
        // Due shutdowns, notified or postponed ones whose time has come: two set-based statements; if they fail,
        // one VM at a time, so that a VM that cannot be shut down is set aside and the others are.
        var due = Db.LabShutdownNotices
            .Where(n => (n.State == ShutdownNoticeState.Notified || n.State == ShutdownNoticeState.Postponed) && n.ShutdownAt <= now
                && !setAside.Contains(n.VmId));
        int shutDown;
        try
        {
            await using var transaction = await Db.Database.BeginTransactionAsync(ct);
            await Db.LabVirtualMachines.Where(v => due.Any(n => n.VmId == v.Id))
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
        return new Counts(notices, sent, shutDown);
    }

    private async Task<(bool Notified, bool Mailed)> NotifyAsync(LabVirtualMachine vm, Lab lab, TimeZoneInfo zone, DateTimeOffset now, CancellationToken ct)
    {
        var scheduled = NextShutdown((vm.ShutdownTime ?? lab.ShutdownTime)!.Value, zone, now);
        if (!NoticeDue(scheduled, lab.ShutdownNoticeMinutes, now)
            || await Db.LabShutdownNotices.AnyAsync(n => n.VmId == vm.Id && n.ScheduledFor == scheduled, ct))
        {
            return (false, false);
        }
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        var notice = new LabShutdownNotice
        {
            Id = Guid.CreateVersion7(now),
            VmId = vm.Id,
            ScheduledFor = scheduled,
            ShutdownAt = scheduled,
            State = ShutdownNoticeState.Notified,
            TokenHash = HashToken(token),
            CreatedAt = now,
        };
        Db.LabShutdownNotices.Add(notice);
        await Db.SaveChangesAsync(ct);
        var to = NotificationEmails.For(lab, vm);
        if (to is null || !mail.Enabled)
        {
            return (true, false);
        }
        try
        {
            await mail.SendAsync(mail.ComposeNotice(to, lab, vm, scheduled, token), ct);
            notice.EmailSentAt = Clock.GetUtcNow();
            await Db.SaveChangesAsync(ct);
            return (true, true);
        }
        catch (Exception e) when (e is MailKit.ServiceNotConnectedException or MailKit.Net.Smtp.SmtpCommandException or MailKit.Net.Smtp.SmtpProtocolException or IOException or System.Net.Sockets.SocketException)
        {
            // The shutdown still happens on time; the failure is logged by VM, never by address.
            LogMailFailed(Logger, e, vm.Id);
            return (true, false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The auto-shutdown notice of VM {VmId} could not be sent.")]
    private static partial void LogMailFailed(ILogger logger, Exception e, Guid vmId);
}

/// What the notice's link lets its holder do: postpone (by a chosen time) or skip the one shutdown.
public static class ShutdownNotices
{
    public static readonly IReadOnlyList<int> PostponeChoices = [30, 60, 120, 240];

    public enum Outcome
    {
        Done,
        NotFound,
        AlreadyShutDown,
        InvalidMinutes,
    }

    public static async Task<(LabShutdownNotice? Notice, LabVirtualMachine? Vm, Lab? Lab)> FindAsync(LetheDb db, string token, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (string.IsNullOrEmpty(token) || token.Length > 100)
        {
            return (null, null, null);
        }
        var hash = AutoShutdown.HashToken(token);
        var notice = await db.LabShutdownNotices.FirstOrDefaultAsync(n => n.TokenHash == hash, ct);
        if (notice is null)
        {
            return (null, null, null);
        }
        var vm = await db.LabVirtualMachines.AsNoTracking().Include(v => v.Lab).FirstAsync(v => v.Id == notice.VmId, ct);
        return (notice, vm, vm.Lab);
    }

    public static async Task<Outcome> PostponeAsync(LetheDb db, string token, int minutes, CancellationToken ct)
    {
        if (minutes is < 1 or > 24 * 60)
        {
            return Outcome.InvalidMinutes;
        }
        var (notice, _, _) = await FindAsync(db, token, ct);
        if (notice is null)
        {
            return Outcome.NotFound;
        }
        if (notice.State is ShutdownNoticeState.ShutDown)
        {
            return Outcome.AlreadyShutDown;
        }
        notice.ShutdownAt = notice.ScheduledFor.AddMinutes(minutes);
        notice.State = ShutdownNoticeState.Postponed;
        await db.SaveChangesAsync(ct);
        return Outcome.Done;
    }

    public static async Task<Outcome> SkipAsync(LetheDb db, string token, CancellationToken ct)
    {
        var (notice, _, _) = await FindAsync(db, token, ct);
        if (notice is null)
        {
            return Outcome.NotFound;
        }
        if (notice.State is ShutdownNoticeState.ShutDown)
        {
            return Outcome.AlreadyShutDown;
        }
        notice.State = ShutdownNoticeState.Skipped;
        await db.SaveChangesAsync(ct);
        return Outcome.Done;
    }
}
