using System.Text.RegularExpressions;
using Lethe.Client;
using Lethe.Jobs;
using Lethe.Labs;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Labs;

/// Seed 002: forget me after deletion (30 days, the lab's period), and the auto-shutdown notice by email.
public sealed partial class LabPersonalDataTests(LabServers servers) : IClassFixture<LabServers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_deleted_VM_is_anonymized_after_the_lab_period_and_cost_totals_stay_the_same(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var c = lab.User1.Client;
        var gone = await lab.CreateVmAsync(c, "u1-gone", Ct, email: "owner-" + Guid.NewGuid().ToString("N") + "@example.test");
        var kept = await lab.CreateVmAsync(c, "u1-kept", Ct);
        await AddCostsAsync(host, lab, gone, kept);
        var before = await lab.Admin.GetLabCostsAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct);
        await c.DeleteLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-gone", Ct);
        var deletedAt = DateTimeOffset.UtcNow;

        await host.WithDbAsync(db => AnonymizeLabPersonalData.RunAsync(db, deletedAt.AddDays(29), Ct));
        var ownerKept = await host.WithDbAsync(db => db.LabVirtualMachines.Where(v => v.Id == gone.Properties.UniqueIdentifier).Select(v => v.OwnerObjectId).SingleAsync(Ct));
        await host.WithDbAsync(db => AnonymizeLabPersonalData.RunAsync(db, deletedAt.AddDays(31), Ct));
        var anonymizedAt = await host.WithDbAsync(db => db.LabVirtualMachines.Where(v => v.Id == gone.Properties.UniqueIdentifier).Select(v => v.AnonymizedAt).SingleAsync(Ct));
        await host.WithDbAsync(db => AnonymizeLabPersonalData.RunAsync(db, deletedAt.AddDays(32), Ct));

        var after = await lab.Admin.GetLabCostsAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct);
        var row = await host.WithDbAsync(db => db.LabVirtualMachines.AsNoTracking().SingleAsync(v => v.Id == gone.Properties.UniqueIdentifier, Ct));
        var costOwners = await host.WithDbAsync(db => db.LabCosts.Where(x => x.ResourceUId == gone.Properties.UniqueIdentifier).Select(x => x.OwnerObjectId).Distinct().ToListAsync(Ct));
        var keptOwners = await host.WithDbAsync(db => db.LabCosts.Where(x => x.ResourceUId == kept.Properties.UniqueIdentifier).Select(x => x.OwnerObjectId).Distinct().ToListAsync(Ct));

        Assert.Equal(lab.User1.ObjectId, ownerKept);
        Assert.Equal(Guid.Empty, row.OwnerObjectId);
        Assert.Null(row.NotificationEmail);
        // A second sweep finds nothing left to do: the time of the first stays.
        Assert.NotNull(anonymizedAt);
        Assert.Equal(anonymizedAt, row.AnonymizedAt);
        Assert.Equal([(Guid?)Guid.Empty], costOwners);
        Assert.Equal([(Guid?)lab.User1.ObjectId], keptOwners);
        Assert.Equal(before.MonthToDate, after.MonthToDate);
        Assert.Equal(before.Trend.Select(t => t.Total), after.Trend.Select(t => t.Total));
        Assert.Equal(before.ByResource.Select(r => (r.ResourceUId, r.Cost)).OrderBy(x => x.ResourceUId), after.ByResource.Select(r => (r.ResourceUId, r.Cost)).OrderBy(x => x.ResourceUId));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_removed_lab_email_is_kept_for_the_period_then_forgotten(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var email = "lab-" + Guid.NewGuid().ToString("N") + "@example.test";
        var lab = await LabSetup.CreateAsync(host, Ct, new LabSettings(NotificationEmail: email, AnonymizeAfterDays: 10));

        var removed = await lab.Admin.UpdateLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, new LabSettings(NotificationEmail: ""), Ct);
        var removedAt = DateTimeOffset.UtcNow;
        var kept = await host.WithDbAsync(db => db.Labs.Where(l => l.Id == lab.Resource.Properties.UniqueIdentifier).Select(l => l.RemovedNotificationEmail).SingleAsync(Ct));
        await host.WithDbAsync(db => AnonymizeLabPersonalData.RunAsync(db, removedAt.AddDays(11), Ct));
        var forgotten = await host.WithDbAsync(db => db.Labs.Where(l => l.Id == lab.Resource.Properties.UniqueIdentifier).Select(l => l.RemovedNotificationEmail).SingleAsync(Ct));

        Assert.Null(removed.Properties.NotificationEmail);
        Assert.Equal(email, kept);
        Assert.Null(forgotten);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_shutdown_notice_goes_to_the_VM_email_and_postpone_and_skip_decide_the_shutdown(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var labEmail = "lab-" + Guid.NewGuid().ToString("N") + "@example.test";
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        // Twelve hours away from the real time of day, so the server's own every-minute run never sends these notices.
        var time = new TimeOnly((TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, paris).Hour + 12) % 24, 0);
        var lab = await LabSetup.CreateAsync(host, Ct, new LabSettings(NotificationEmail: labEmail, TimeZoneId: "Europe/Paris", ShutdownTime: time.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture), ShutdownNoticeMinutes: 30));
        var postponer = "p-" + Guid.NewGuid().ToString("N") + "@example.test";
        var skipper = "s-" + Guid.NewGuid().ToString("N") + "@example.test";
        await lab.CreateVmAsync(lab.User1.Client, "postponed", Ct, email: postponer);
        await lab.CreateVmAsync(lab.User2.Client, "skipped", Ct, email: skipper);
        var plain = await lab.CreateVmAsync(lab.User2.Client, "plain", Ct);
        var noon = AutoShutdown.NextShutdown(time, paris, DateTimeOffset.UtcNow.AddDays(1));

        await RunShutdownAsync(host, noon.AddMinutes(-20));
        await RunShutdownAsync(host, noon.AddMinutes(-19));
        var labId = lab.Resource.Properties.UniqueIdentifier;
        var notices = await host.WithDbAsync(db => db.LabShutdownNotices.Where(n => db.LabVirtualMachines.Any(v => v.Id == n.VmId && v.LabId == labId)).ToListAsync(Ct));
        var postponeToken = TokenOf(Assert.Single(await Maildev.MessagesToAsync(postponer, Ct)));
        var skipToken = TokenOf(Assert.Single(await Maildev.MessagesToAsync(skipper, Ct)));
        var anonymous = host.Anonymous();
        await anonymous.PostponeShutdownAsync(postponeToken, 60, Ct);
        await anonymous.SkipShutdownAsync(skipToken, Ct);
        // A skipped shutdown stays skipped: the link cannot bring it back by postponing it.
        var flipBack = await Assert.ThrowsAsync<LetheConflictException>(() => anonymous.PostponeShutdownAsync(skipToken, 30, Ct));
        Assert.Contains("skipped", flipBack.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => anonymous.SkipShutdownAsync("not-a-token", Ct));
        await Assert.ThrowsAsync<LetheValidationException>(() => anonymous.PostponeShutdownAsync(postponeToken, 0, Ct));
        await RunShutdownAsync(host, noon.AddMinutes(1));
        var runningAtNoon = await PowerStatesAsync(lab);
        await RunShutdownAsync(host, noon.AddMinutes(61));
        var runningLater = await PowerStatesAsync(lab);

        // One notice per VM however often the job runs, each with its email sent.
        Assert.Equal(3, notices.Count);
        Assert.All(notices, n => Assert.NotNull(n.EmailSentAt));
        Assert.All(notices, n => Assert.Equal((NoticeMailState.Sent, 1), (n.MailState, n.MailAttempts)));
        Assert.All(notices, n => Assert.Equal(noon, n.ScheduledFor));
        // The VM level wins: the lab's address got the notice of the VM without an email only.
        var labMessage = Assert.Single(await Maildev.MessagesToAsync(labEmail, Ct));
        Assert.Contains("plain", labMessage.GetProperty("subject").GetString(), StringComparison.Ordinal);
        Assert.Equal(("Running", "Running", "Stopped"), (runningAtNoon["postponed"], runningAtNoon["skipped"], runningAtNoon["plain"]));
        Assert.Equal(("Stopped", "Running"), (runningLater["postponed"], runningLater["skipped"]));
        Assert.NotNull(plain);
    }

    private static async Task<AutoShutdown.Counts> RunShutdownAsync(LetheHost host, DateTimeOffset now)
    {
        await using var scope = host.Factory.Services.CreateAsyncScope();
        var job = scope.ServiceProvider.GetServices<IJobHandler>().OfType<AutoShutdown>().Single();
        return await job.RunAsync(now, Ct);
    }

    private static async Task<Dictionary<string, string>> PowerStatesAsync(LabSetup lab)
        => (await lab.Admin.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct)).ToDictionary(v => v.Name, v => v.Properties.PowerState);

    private static string TokenOf(System.Text.Json.JsonElement message)
    {
        var text = message.GetProperty("text").GetString()!;
        var match = NoticeLink().Match(text);
        Assert.True(match.Success, "The notice has no link to the shutdown page.");
        Assert.StartsWith(LabServers.PublicUrl, match.Value, StringComparison.Ordinal);
        return Uri.UnescapeDataString(match.Groups[1].Value);
    }

    [GeneratedRegex(@"https?://\S+/Labs/Shutdown/([A-Za-z0-9_\-%]+)")]
    private static partial Regex NoticeLink();

    private static Task<int> AddCostsAsync(LetheHost host, LabSetup lab, params LabVirtualMachineResource[] vms)
        => host.WithDbAsync(db =>
        {
            var today = DateOnly.FromDateTime(DateTime.UtcNow);
            foreach (var vm in vms)
            {
                for (var d = 0; d < 3; d++)
                {
                    db.LabCosts.Add(new LabCost
                    {
                        Id = Guid.NewGuid(),
                        LabId = lab.Resource.Properties.UniqueIdentifier,
                        ResourceUId = vm.Properties.UniqueIdentifier,
                        ResourceName = vm.Name,
                        Date = today.AddDays(-d),
                        AmountCents = 123 + d,
                        OwnerObjectId = vm.Properties.OwnerObjectId,
                    });
                }
            }
            return db.SaveChangesAsync(Ct);
        });
}
