using Microsoft.EntityFrameworkCore;

namespace Lethe.Labs;

/// A VM's next shutdown as its owner sees it: the open notice (notified or postponed) if there is one,
/// else the next scheduled shutdown with its notice if recorded (skipped) or none yet.
/// <paramref name="NoticeAt"/> is when the notice goes out.
public sealed record PendingShutdown(DateTimeOffset ScheduledFor, DateTimeOffset ShutdownAt, DateTimeOffset NoticeAt, LabShutdownNotice? Notice)
{
    /// The VM's pending shutdown, or null when it has no schedule (or is stopped or deleted).
    public static async Task<PendingShutdown?> FindAsync(LetheDb db, Lab lab, LabVirtualMachine vm, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(vm);
        var lead = TimeSpan.FromMinutes(lab.ShutdownNoticeMinutes);
        // An open notice first: a postponed shutdown may be later than the next scheduled time.
        var open = await db.LabShutdownNotices.AsNoTracking()
            .Where(n => n.VmId == vm.Id && (n.State == ShutdownNoticeState.Notified || n.State == ShutdownNoticeState.Postponed))
            .OrderBy(n => n.ShutdownAt).FirstOrDefaultAsync(ct);
        if (open is not null)
        {
            return new PendingShutdown(open.ScheduledFor, open.ShutdownAt, open.ScheduledFor - lead, open);
        }
        if ((vm.ShutdownTime ?? lab.ShutdownTime) is not { } time || vm.DeletedAt is not null || !vm.Running)
        {
            return null;
        }
        var scheduled = AutoShutdown.NextShutdown(time, TimeZoneInfo.FindSystemTimeZoneById(lab.TimeZoneId), now);
        var notice = await db.LabShutdownNotices.AsNoTracking().FirstOrDefaultAsync(n => n.VmId == vm.Id && n.ScheduledFor == scheduled, ct);
        return new PendingShutdown(scheduled, notice?.ShutdownAt ?? scheduled, scheduled - lead, notice);
    }

    /// The pending shutdown's notice, recorded now if it is not yet (the owner acts before the notice was
    /// due: no email is needed then). Null when the VM has no pending shutdown.
    public static async Task<LabShutdownNotice?> EnsureNoticeAsync(LetheDb db, Lab lab, LabVirtualMachine vm, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var pending = await FindAsync(db, lab, vm, now, ct);
        if (pending is null || pending.Notice is not null)
        {
            return pending?.Notice;
        }
        var notice = new LabShutdownNotice
        {
            Id = Guid.CreateVersion7(now),
            VmId = vm.Id,
            ScheduledFor = pending.ScheduledFor,
            ShutdownAt = pending.ScheduledFor,
            State = ShutdownNoticeState.Notified,
            TokenHash = AutoShutdown.HashToken(ShutdownNotices.NewToken()),
            CreatedAt = now,
            MailState = NoticeMailState.NotNeeded,
        };
        db.LabShutdownNotices.Add(notice);
        try
        {
            await db.SaveChangesAsync(ct);
            return notice;
        }
        catch (DbUpdateException)
        {
            // The sweep recorded the notice meanwhile (one per VM and scheduled time): act on that one.
            db.ChangeTracker.Clear();
            return await db.LabShutdownNotices.AsNoTracking().FirstOrDefaultAsync(n => n.VmId == vm.Id && n.ScheduledFor == pending.ScheduledFor, ct);
        }
    }
}
