using Lethe.Labs;
using Lethe.Resources;
using Lethe.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Lethe.Tests.Labs;

/// The decisions of issue 13's items 3 and 8: prices, email retries, when the next notice falls due.
public sealed class LabPricesAndNoticeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void A_lab_keeps_only_the_prices_it_changed_and_the_defaults_fill_the_rest()
    {
        var changed = LabPrices.Defaults.With(new Dictionary<string, decimal> { ["standard_b2s"] = 2m, ["My_Size"] = 0.5m }, null, new Dictionary<string, decimal> { ["Premium"] = 0.2m });
        var stored = changed.ToStored();
        var read = LabPrices.For(stored);
        var unchanged = LabPrices.Defaults.With(new Dictionary<string, decimal> { ["Standard_B2s"] = 0.99m }, 1.50m, null);

        Assert.Equal(200, read.VmDailyCents("Standard_B2s"));
        Assert.Equal(50, read.VmDailyCents("my_size"));
        Assert.Equal(25, read.VmDailyCents("Standard_B1s"));
        Assert.Equal(150, read.VmDailyCents("Unknown_Size"));
        Assert.DoesNotContain("Standard_B1s", stored, StringComparison.Ordinal);
        Assert.Null(unchanged.ToStored());
        // 100 GiB at 0.20 a month over November's 30 days: 0.6667 a day, 67 cents.
        Assert.Equal(67, read.DiskDailyCents(1, 100, new DateOnly(2026, 11, 5)));
        // 100 GiB Standard at the default 0.05 over February's 28 days: 0.1786 a day, 18 cents.
        Assert.Equal(18, read.DiskDailyCents(0, 100, new DateOnly(2026, 2, 5)));
    }

    [Theory]
    [InlineData(-0.01, null)]
    [InlineData(null, "Ultra")]
    public void Bad_prices_are_refused_in_words(double? vmPrice, string? diskType)
    {
        var problem = LabPrices.Problem(
            vmPrice is { } p ? new Dictionary<string, decimal> { ["Standard_B2s"] = (decimal)p } : null,
            null,
            diskType is { } t ? new Dictionary<string, decimal> { [t] = 1m } : null);

        Assert.NotNull(problem);
        Assert.StartsWith("pricing.", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_email_is_tried_again_with_doubling_waits_until_the_shutdown_or_the_last_attempt()
    {
        var now = new DateTimeOffset(2026, 11, 24, 18, 30, 0, TimeSpan.Zero);
        var shutdown = now.AddMinutes(30);

        var first = AutoShutdown.NextMailAttempt(1, now, shutdown);
        var third = AutoShutdown.NextMailAttempt(3, now, shutdown);
        var tooLate = AutoShutdown.NextMailAttempt(1, shutdown.AddSeconds(-5), shutdown);
        var last = AutoShutdown.NextMailAttempt(AutoShutdown.MaxMailAttempts, now, shutdown);

        Assert.InRange(first!.Value - now, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(10));
        Assert.InRange(third!.Value - now, TimeSpan.FromSeconds(32), TimeSpan.FromSeconds(40));
        Assert.Null(tooLate);
        Assert.Null(last);
        Assert.DoesNotContain("@", AutoShutdown.MailError(new MailKit.Net.Smtp.SmtpCommandException(MailKit.Net.Smtp.SmtpErrorCode.RecipientNotAccepted, MailKit.Net.Smtp.SmtpStatusCode.MailboxUnavailable, "550 someone@example.test unknown")), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_sweep_says_when_the_next_notice_falls_due_to_the_second(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider, Ct);
        var day = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);
        var subscription = Guid.NewGuid();
        var lab = new Lab
        {
            Id = Guid.NewGuid(), SubscriptionId = subscription, ResourceGroup = "rg", ResourceGroupKey = "rg", Name = "l", NameKey = "l",
            ScopeKey = "x", Location = "westeurope", TimeZoneId = "UTC", ShutdownTime = new TimeOnly(19, 0), ShutdownNoticeMinutes = 1, CreatedAt = day,
        };
        await using (var db = database.CreateContext())
        {
            db.Subscriptions.Add(new Subscription { Id = subscription, DisplayName = "s", CreatedAt = day });
            db.ResourceGroups.Add(new ResourceGroup { SubscriptionId = subscription, Name = "rg", NameKey = "rg", Location = "westeurope", CreatedAt = day });
            db.Labs.Add(lab);
            db.LabVirtualMachines.Add(new LabVirtualMachine { Id = Guid.NewGuid(), LabId = lab.Id, Name = "vm", NameKey = "vm", PricingTier = "Standard_B2s", CreatedAt = day });
            await db.SaveChangesAsync(Ct);
        }

        var early = await SweepAsync(database, day.AddHours(18).AddMinutes(50).AddSeconds(17));
        var atNotice = await SweepAsync(database, day.AddHours(18).AddMinutes(59));
        var atShutdown = await SweepAsync(database, day.AddHours(19));

        Assert.Equal((0, day.AddHours(18).AddMinutes(59)), (early.Notices, early.NextDue));
        // The notice is recorded at its minute; the next thing due is the shutdown itself.
        Assert.Equal((1, day.AddHours(19)), (atNotice.Notices, atNotice.NextDue));
        Assert.Equal(1, atShutdown.ShutDown);
    }

    private static async Task<AutoShutdown.Counts> SweepAsync(TestDatabase database, DateTimeOffset now)
    {
        await using var db = database.CreateContext();
        var sweep = new AutoShutdown(db, new FakeTimeProvider(now), new LabMail(Options.Create(new SmtpOptions())), NullLogger<AutoShutdown>.Instance);
        return await sweep.RunAsync(now, Ct);
    }
}
