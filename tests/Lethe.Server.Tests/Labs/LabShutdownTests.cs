using System.Globalization;
using Lethe.Client;
using Lethe.Jobs;
using Lethe.Labs;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Labs;

/// Servers with no SMTP server (no Lethe:Smtp:Host): notices cannot be emailed.
public sealed class NoMailServers : Servers;

/// Servers whose SMTP server refuses connections (the discard port on loopback, closed).
public sealed class FailingMailServers : Servers
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Lethe:Smtp:Host"] = "127.0.0.1",
        ["Lethe:Smtp:Port"] = "9",
        ["Lethe:Smtp:Security"] = "None",
    };
}

/// Item 3 of issue 13: auto-shutdown notices that nobody may receive by mail are still seen and acted on.
public sealed class LabShutdownTests(NoMailServers servers) : IClassFixture<NoMailServers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Without_a_mail_server_health_is_degraded_and_the_owner_postpones_and_skips_from_the_API(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (lab, time) = await ScheduledLabAsync(host);
        await lab.CreateVmAsync(lab.User1.Client, "u1-vm", Ct, email: "u1-" + Guid.NewGuid().ToString("N") + "@example.test");
        await lab.CreateVmAsync(lab.User2.Client, "u2-vm", Ct);
        var scheduled = AutoShutdown.NextShutdown(time, TimeZoneInfo.Utc, DateTimeOffset.UtcNow);
        var c = lab.User1.Client;

        var health = await host.Anonymous().GetHealthAsync(Ct);
        var counts = await ShutdownSweep.RunAsync(host, scheduled.AddMinutes(-30));
        var notified = await c.GetLabVirtualMachineShutdownAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", Ct);
        var tooLong = await Assert.ThrowsAsync<LetheValidationException>(() => c.PostponeLabVirtualMachineShutdownAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", 241, Ct));
        var postponed = await c.PostponeLabVirtualMachineShutdownAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", 240, Ct);
        var skipped = await c.SkipLabVirtualMachineShutdownAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", Ct);
        var flipBack = await Assert.ThrowsAsync<LetheConflictException>(() => c.PostponeLabVirtualMachineShutdownAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", 30, Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => c.SkipLabVirtualMachineShutdownAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u2-vm", Ct));
        var byAdmin = await lab.Admin.GetLabVirtualMachineShutdownAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u2-vm", Ct);
        await ShutdownSweep.RunAsync(host, scheduled.AddMinutes(241));
        var power = (await lab.Admin.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct)).ToDictionary(v => v.Name, v => v.Properties.PowerState);

        Assert.Equal("Degraded", health.Checks["email"]);
        Assert.True(counts.Notices >= 2);
        Assert.Equal(("Notified", "NoMailServer", 0), (notified.State, notified.Mail!.State, notified.Mail.Attempts));
        Assert.Equal(scheduled, notified.ScheduledFor);
        Assert.Equal((1, 240), (notified.MinPostponeMinutes, notified.MaxPostponeMinutes));
        Assert.Contains("between 1 and 240", Assert.Single(tooLong.Errors).Value[0], StringComparison.Ordinal);
        Assert.Equal(("Postponed", scheduled.AddMinutes(240)), (postponed.State, postponed.ShutdownAt));
        Assert.Equal("Skipped", skipped.State);
        Assert.Contains("skipped", flipBack.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Exception", flipBack.Message, StringComparison.Ordinal);
        Assert.Equal(("Notified", "NoMailServer"), (byAdmin.State, byAdmin.Mail!.State));
        // The skip held: the VM runs on; the other one shut down on time.
        Assert.Equal(("Running", "Stopped"), (power["u1-vm"], power["u2-vm"]));
        Assert.Contains(host.Logs.Entries, e => e.Message.Contains("no SMTP server is configured", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_owner_skips_a_shutdown_before_its_notice_and_no_notice_follows(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (lab, time) = await ScheduledLabAsync(host);
        await lab.CreateVmAsync(lab.User1.Client, "u1-vm", Ct);
        var scheduled = AutoShutdown.NextShutdown(time, TimeZoneInfo.Utc, DateTimeOffset.UtcNow);
        var c = lab.User1.Client;

        var ahead = await c.GetLabVirtualMachineShutdownAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", Ct);
        var skipped = await c.SkipLabVirtualMachineShutdownAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", Ct);
        await ShutdownSweep.RunAsync(host, scheduled.AddMinutes(-30));
        await ShutdownSweep.RunAsync(host, scheduled.AddMinutes(1));
        var vm = await c.GetLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", Ct);
        var vmId = vm.Properties.UniqueIdentifier;
        var notices = await host.WithDbAsync(db => db.LabShutdownNotices.AsNoTracking().Where(n => n.VmId == vmId).ToListAsync(Ct));

        Assert.Equal(("Scheduled", scheduled, scheduled.AddMinutes(-30)), (ahead.State, ahead.ScheduledFor, ahead.NoticeAt));
        Assert.Null(ahead.Mail);
        Assert.Equal(("Skipped", "NotNeeded"), (skipped.State, skipped.Mail!.State));
        Assert.Equal(ShutdownNoticeState.Skipped, Assert.Single(notices).State);
        Assert.Equal("Running", vm.Properties.PowerState);
    }

    /// The notice goes out its lab's minutes before the shutdown, to the second, by the server's own
    /// scheduler: the sweep brings its next run forward to the notice's time.
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_one_minute_notice_is_recorded_one_minute_before_the_shutdown(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        // At least a minute (one regular run) from now, on a whole minute as schedules are.
        var now = DateTimeOffset.UtcNow;
        var shutdown = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(3);
        var lab = await LabSetup.CreateAsync(host, Ct, new LabSettings(TimeZoneId: "UTC", ShutdownTime: shutdown.ToString("HH:mm", CultureInfo.InvariantCulture), ShutdownNoticeMinutes: 1));
        var vm = await lab.CreateVmAsync(lab.User1.Client, "u1-vm", Ct);
        var vmId = vm.Properties.UniqueIdentifier;

        LabShutdownNotice? notice = null;
        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (notice is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, Ct);
            notice = await host.WithDbAsync(db => db.LabShutdownNotices.AsNoTracking().FirstOrDefaultAsync(n => n.VmId == vmId, Ct));
        }

        Assert.NotNull(notice);
        Assert.Equal(shutdown, notice.ScheduledFor);
        var early = notice.CreatedAt - shutdown.AddMinutes(-1);
        Assert.InRange(early, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    private static async Task<(LabSetup Lab, TimeOnly Time)> ScheduledLabAsync(LetheHost host)
    {
        // Twelve hours away from now, so the server's own runs never reach these shutdowns.
        var time = new TimeOnly((DateTime.UtcNow.Hour + 12) % 24, 0);
        var lab = await LabSetup.CreateAsync(host, Ct, new LabSettings(NotificationEmail: "lab-" + Guid.NewGuid().ToString("N") + "@example.test", TimeZoneId: "UTC",
            ShutdownTime: time.ToString("HH:mm", CultureInfo.InvariantCulture), ShutdownNoticeMinutes: 30));
        return (lab, time);
    }
}

/// Failed sends are retried with backoff while the shutdown is ahead, and shown.
public sealed class LabShutdownMailRetryTests(FailingMailServers servers) : IClassFixture<FailingMailServers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_failed_notice_email_is_retried_with_backoff_and_shown_with_its_next_try(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var time = new TimeOnly((DateTime.UtcNow.Hour + 12) % 24, 0);
        var lab = await LabSetup.CreateAsync(host, Ct, new LabSettings(TimeZoneId: "UTC", ShutdownTime: time.ToString("HH:mm", CultureInfo.InvariantCulture), ShutdownNoticeMinutes: 30));
        await lab.CreateVmAsync(lab.User1.Client, "u1-vm", Ct, email: "u1-" + Guid.NewGuid().ToString("N") + "@example.test");
        var scheduled = AutoShutdown.NextShutdown(time, TimeZoneInfo.Utc, DateTimeOffset.UtcNow);
        var first = scheduled.AddMinutes(-30);
        var c = lab.User1.Client;

        await ShutdownSweep.RunAsync(host, first);
        var failed = await c.GetLabVirtualMachineShutdownAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", Ct);
        var health = await host.Anonymous().GetHealthAsync(Ct);
        var tooSoon = await ShutdownSweep.RunAsync(host, first.AddSeconds(5));
        var still = await c.GetLabVirtualMachineShutdownAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", Ct);
        var retry = await ShutdownSweep.RunAsync(host, failed.Mail!.NextAttemptAt!.Value);
        var again = await c.GetLabVirtualMachineShutdownAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", Ct);

        Assert.Equal(("Notified", "Failed", 1), (failed.State, failed.Mail.State, failed.Mail.Attempts));
        Assert.InRange(failed.Mail.NextAttemptAt!.Value - first, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(10));
        Assert.Equal("The SMTP server could not be reached.", failed.Mail.LastError);
        Assert.Equal("Degraded", health.Checks["email"]);
        // The sweep's next run is due no later than this retry (the demo lab's own failed notices may retry sooner).
        Assert.NotNull(tooSoon.NextDue);
        Assert.True(tooSoon.NextDue <= failed.Mail.NextAttemptAt, $"next run {tooSoon.NextDue:O}, retry {failed.Mail.NextAttemptAt:O}");
        Assert.Equal(1, still.Mail!.Attempts);
        Assert.Equal(0, retry.EmailsSent);
        Assert.Equal(2, again.Mail!.Attempts);
        // Doubling: the second wait is twice the first (less up to a fifth of jitter).
        Assert.InRange(again.Mail.NextAttemptAt!.Value - failed.Mail.NextAttemptAt.Value, TimeSpan.FromSeconds(16), TimeSpan.FromSeconds(20));
    }
}

internal static class ShutdownSweep
{
    public static async Task<AutoShutdown.Counts> RunAsync(LetheHost host, DateTimeOffset now)
    {
        await using var scope = host.Factory.Services.CreateAsyncScope();
        var job = scope.ServiceProvider.GetServices<IJobHandler>().OfType<AutoShutdown>().Single();
        return await job.RunAsync(now, TestContext.Current.CancellationToken);
    }
}
