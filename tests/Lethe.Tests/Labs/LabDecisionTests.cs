using Lethe.Labs;

namespace Lethe.Tests.Labs;

/// The pure decisions of the Labs module, without a database.
public sealed class LabDecisionTests
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("2026-11-01", "2026-10-31T23:00:00+00:00")]
    [InlineData("2026-07-01", "2026-06-30T22:00:00+00:00")]
    [InlineData("11/17/2026 00:00:00", "2026-11-16T23:00:00+00:00")]
    [InlineData("2026-11-20T17:45:00Z", "2026-11-19T23:00:00+00:00")]
    public void A_usage_start_date_is_midnight_of_that_day_in_the_lab_time_zone_and_its_time_is_ignored(string input, string expected)
    {
        Assert.True(ExportLabUsage.TryParseStart(input, Paris, Now, out var start, out var problem), problem);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), start);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-13-01")]
    [InlineData("2026-11-25")]
    public void A_date_that_does_not_parse_or_lies_in_the_future_is_refused(string input)
    {
        Assert.False(ExportLabUsage.TryParseStart(input, Paris, Now, out var start, out var problem));
        Assert.Null(start);
        Assert.StartsWith("usageStartDate", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void No_start_date_means_from_the_beginning()
    {
        Assert.True(ExportLabUsage.TryParseStart(null, Paris, Now, out var start, out _));
        Assert.Null(start);
    }

    [Fact]
    public void Each_export_has_its_own_folder_under_the_lab_name_and_LabUId()
    {
        var lab = new Lab { Id = Guid.Parse("11111111-2222-3333-4444-555555555555"), ResourceGroup = "rg", ResourceGroupKey = "rg", Name = "DevLab", NameKey = "devlab", ScopeKey = "x", Location = "westeurope", TimeZoneId = "Europe/Paris" };

        var full = ExportLabUsage.FolderFor(lab, null, Now, Paris);
        var since = ExportLabUsage.FolderFor(lab, new DateTimeOffset(2026, 10, 31, 23, 0, 0, TimeSpan.Zero), Now.AddMilliseconds(1), Paris);

        Assert.Equal("DevLab/11111111-2222-3333-4444-555555555555/20261124T100000000Z/full/", full);
        Assert.Equal("DevLab/11111111-2222-3333-4444-555555555555/20261124T100000001Z/2026-11-01/", since);
    }

    [Fact]
    public void The_next_shutdown_is_today_s_until_its_time_has_passed_by_more_than_the_tolerance()
    {
        var noon = new TimeOnly(12, 0);

        Assert.Equal(new DateTimeOffset(2026, 11, 24, 11, 0, 0, TimeSpan.Zero), AutoShutdown.NextShutdown(noon, Paris, Now));
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 11, 0, 0, TimeSpan.Zero), AutoShutdown.NextShutdown(noon, Paris, new DateTimeOffset(2026, 11, 24, 11, 4, 0, TimeSpan.Zero)));
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 11, 0, 0, TimeSpan.Zero), AutoShutdown.NextShutdown(noon, Paris, new DateTimeOffset(2026, 11, 24, 11, 6, 0, TimeSpan.Zero)));
        // Summer time: noon in Paris is 10:00 UTC.
        Assert.Equal(new DateTimeOffset(2026, 7, 1, 10, 0, 0, TimeSpan.Zero), AutoShutdown.NextShutdown(noon, Paris, new DateTimeOffset(2026, 7, 1, 8, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void The_notice_is_due_the_notice_time_before_the_shutdown()
    {
        var at = new DateTimeOffset(2026, 11, 24, 11, 0, 0, TimeSpan.Zero);

        Assert.False(AutoShutdown.NoticeDue(at, 30, at.AddMinutes(-31)));
        Assert.True(AutoShutdown.NoticeDue(at, 30, at.AddMinutes(-30)));
    }

    [Fact]
    public void A_replaced_or_removed_email_is_kept_as_removed_and_an_unchanged_one_is_not()
    {
        var t = Now;

        Assert.Equal(("a@x.test", (string?)null, (DateTimeOffset?)null), NotificationEmails.Next(null, null, null, "a@x.test", t));
        Assert.Equal(((string?)null, "a@x.test", (DateTimeOffset?)t), NotificationEmails.Next("a@x.test", null, null, "", t));
        Assert.Equal(("b@x.test", "a@x.test", (DateTimeOffset?)t), NotificationEmails.Next("a@x.test", null, null, "b@x.test", t));
        // Emails are stored as the privacy engine finds them: trimmed and lower-cased.
        Assert.Equal(("a@x.test", (string?)null, (DateTimeOffset?)null), NotificationEmails.Next("a@x.test", null, null, " A@x.TEST", t));
        Assert.Equal(("ana.ünal@example.test", (string?)null, (DateTimeOffset?)null), NotificationEmails.Next(null, null, null, "Ana.Ünal@Example.TEST", t));
    }

    [Fact]
    public void Anonymization_is_due_once_the_lab_period_has_passed()
    {
        Assert.False(AnonymizeLabPersonalData.IsDue(Now, 30, Now.AddDays(29)));
        Assert.True(AnonymizeLabPersonalData.IsDue(Now, 30, Now.AddDays(30)));
    }

    [Fact]
    public void The_cost_report_accumulates_each_month_by_day_and_extends_this_month_linearly()
    {
        var today = new DateOnly(2026, 11, 10);
        var days = new List<DailyCost> { new(new DateOnly(2026, 9, 1), 100), new(new DateOnly(2026, 10, 31), 50), new(new DateOnly(2026, 11, 1), 300), new(new DateOnly(2026, 11, 10), 200) };

        var report = LabCosts.Shape(today, days, [new ResourceCost(Guid.Empty, "b", null, 10), new ResourceCost(Guid.Empty, "a", null, 90)]);

        Assert.Equal([new DateOnly(2026, 9, 1), new DateOnly(2026, 10, 1), new DateOnly(2026, 11, 1)], report.Trend.Select(t => t.Month));
        Assert.Equal(30, report.Trend[0].CumulativeCentsByDay.Count);
        Assert.Equal(100, report.Trend[0].CumulativeCentsByDay[^1]);
        Assert.Equal(50, report.Trend[1].TotalCents);
        Assert.Equal(10, report.Trend[2].CumulativeCentsByDay.Count);
        Assert.Equal(300, report.Trend[2].CumulativeCentsByDay[0]);
        Assert.Equal(500, report.MonthToDateCents);
        Assert.Equal(1500, report.EstimatedMonthCents);
        Assert.Equal(["a", "b"], report.ByResource.Select(r => r.ResourceName));
    }
}
