using Lethe.Client;
using Lethe.Demo;
using Lethe.Labs;

namespace Lethe.Cli.Tests.Labs;

public sealed class LabCommandTests(TestServer server) : IClassFixture<TestServer>
{
    private static readonly string DemoLab = $"/subscriptions/{DemoAccounts.SubscriptionId:D}/resourceGroups/{DemoAccounts.LabsResourceGroup}/providers/Microsoft.DevTestLab/labs/{LabsDemo.LabName}";

    [Fact]
    public async Task The_lab_admin_exports_usage_waits_for_it_and_downloads_the_files()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabAdmin.Email);
        var target = Path.Combine(user.ConfigDirectory, "vms.csv");

        var export = await user.RunAsync("lab", "export-usage", "--lab", DemoLab, "--since", "2020-01-01", "--wait", "-o", "json");
        var list = await user.RunAsync("lab", "exports", "--lab", DemoLab, "-o", "json");
        var items = list.Json<List<LabUsageExportItem>>();
        var mine = items.Where(i => i.Folder.EndsWith("/2020-01-01/", StringComparison.Ordinal)).ToList();
        var download = await user.RunAsync("lab", "download", "--lab", DemoLab, "--folder", mine[0].Folder, "--file", "virtualmachines.csv", "--out", target);

        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Equal(OperationStates.Succeeded, export.Json<OperationStatus>().Status);
        Assert.Equal(["disks.csv", "virtualmachines.csv"], mine.Select(i => i.Name).Order(StringComparer.Ordinal));
        Assert.True(download.ExitCode == 0, download.ToString());
        var lines = await File.ReadAllLinesAsync(target, TestContext.Current.CancellationToken);
        Assert.StartsWith("SubscriptionId,LabUId,LabName,LabResourceId,", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains(",lana-ubuntu,", StringComparison.Ordinal) && l.Contains(",Inactive,", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_lab_user_cannot_export_and_a_bad_date_names_the_field()
    {
        using var labUser = new CliUser(server.Url);
        await labUser.LoginAsync(DemoAccounts.LabUser1.Email);
        using var admin = new CliUser(server.Url);
        await admin.LoginAsync(DemoAccounts.LabAdmin.Email);

        var denied = await labUser.RunAsync("lab", "export-usage", "--lab", DemoLab, "--wait");
        var badDate = await admin.RunAsync("lab", "export-usage", "--lab", DemoLab, "--since", "someday");
        var badLab = await admin.RunAsync("lab", "export-usage", "--lab", "/subscriptions/x");

        Assert.Equal(ExitCodes.Failed, denied.ExitCode);
        Assert.Contains("Forbidden", denied.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, badDate.ExitCode);
        Assert.Contains("usageStartDate", badDate.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, badLab.ExitCode);
    }

    [Fact]
    public async Task A_lab_user_lists_their_own_and_the_claimable_VMs_and_creates_a_disk()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabUser1.Email);
        var name = "cli-" + Guid.NewGuid().ToString("N")[..8];

        var vms = (await user.RunAsync("lab", "vm", "list", "--lab", DemoLab, "-o", "json")).Json<List<LabVirtualMachineResource>>();
        var disk = await user.RunAsync("lab", "disk", "create", name, "--lab", DemoLab, "--size-gb", "64", "--type", "Premium", "-o", "json");
        var attached = await user.RunAsync("lab", "disk", "attach", name, "--lab", DemoLab, "--vm", "lana-win11", "-o", "json");

        Assert.Contains(vms, v => v.Name == "lana-win11");
        Assert.Contains(vms, v => v.Name == "pool-vm-01" && v.Properties.AllowClaim);
        Assert.DoesNotContain(vms, v => v.Name.StartsWith("leo", StringComparison.Ordinal));
        Assert.True(disk.ExitCode == 0, disk.ToString());
        Assert.Equal("Premium", disk.Json<LabDiskResource>().Properties.DiskType);
        Assert.EndsWith("/virtualmachines/lana-win11", attached.Json<LabDiskResource>().Properties.LeasedByLabVmId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lab_user_lists_their_deleted_VMs_and_disks_and_postpones_then_skips_a_shutdown()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabUser1.Email);
        var name = "cli-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, (await user.RunAsync("lab", "vm", "create", name + "-old", "--lab", DemoLab, "--image", "Canonical:ubuntu-24_04-lts:server:Linux:latest")).ExitCode);
        Assert.Equal(0, (await user.RunAsync("lab", "vm", "create", name, "--lab", DemoLab, "--image", "Canonical:ubuntu-24_04-lts:server:Linux:latest")).ExitCode);
        Assert.Equal(0, (await user.RunAsync("lab", "disk", "create", name + "-disk", "--lab", DemoLab, "--size-gb", "8")).ExitCode);
        Assert.Equal(0, (await user.RunAsync("lab", "vm", "delete", name + "-old", "--lab", DemoLab)).ExitCode);
        Assert.Equal(0, (await user.RunAsync("lab", "disk", "delete", name + "-disk", "--lab", DemoLab)).ExitCode);

        var vms = (await user.RunAsync("lab", "vm", "list", "--lab", DemoLab, "--include-deleted", "-o", "json")).Json<List<LabVirtualMachineResource>>();
        var disks = (await user.RunAsync("lab", "disk", "list", "--lab", DemoLab, "--include-deleted", "-o", "json")).Json<List<LabDiskResource>>();
        var shown = await user.RunAsync("lab", "schedule", "show", "--lab", DemoLab, "--vm", name);
        var postponed = await user.RunAsync("lab", "schedule", "postpone", "--lab", DemoLab, "--vm", name, "--minutes", "120", "-o", "json");
        var skipped = await user.RunAsync("lab", "schedule", "skip", "--lab", DemoLab, "--vm", name, "-o", "json");
        var flipBack = await user.RunAsync("lab", "schedule", "postpone", "--lab", DemoLab, "--vm", name, "--minutes", "30");

        Assert.Equal("Inactive", Assert.Single(vms, v => v.Name == name + "-old").Properties.Status);
        Assert.Equal("Inactive", Assert.Single(disks, d => d.Name == name + "-disk").Properties.Status);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains("Scheduled", shown.Out, StringComparison.Ordinal);
        var p = postponed.Json<LabVmShutdown>();
        Assert.Equal(("Postponed", p.ScheduledFor.AddMinutes(120)), (p.State, p.ShutdownAt));
        Assert.Equal("Skipped", skipped.Json<LabVmShutdown>().State);
        Assert.Equal(ExitCodes.Failed, flipBack.ExitCode);
        Assert.Contains("skipped", flipBack.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_lab_admin_sets_a_price_and_sees_the_prices_in_effect()
    {
        using var admin = new CliUser(server.Url);
        await admin.LoginAsync(DemoAccounts.LabAdmin.Email);
        var tier = "Cli_" + Guid.NewGuid().ToString("N")[..6];

        var set = await admin.RunAsync("lab", "pricing", "--lab", DemoLab, "--vm-price", tier + "=1.25", "--disk-price", "Standard=0.05", "-o", "json");
        var shown = await admin.RunAsync("lab", "pricing", "--lab", DemoLab);
        var bad = await admin.RunAsync("lab", "pricing", "--lab", DemoLab, "--vm-price", tier + "=cheap");

        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Equal(1.25m, set.Json<LabPricing>().VirtualMachinePerDay![tier]);
        Assert.Contains(tier, shown.Out, StringComparison.Ordinal);
        Assert.Contains("per GiB and month", shown.Out, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
    }
}
