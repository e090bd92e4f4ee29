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
}
