using Lethe.Blobs;
using Lethe.Client;
using Lethe.Labs;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Labs;

/// The servers of these tests keep their blobs in Azure Blob Storage (Azurite), under a prefix of their own.
public sealed class LabAzureServers : Servers
{
    public string Prefix { get; } = "lab" + Guid.NewGuid().ToString("N")[..8];

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Lethe:Blobs:Provider"] = "Azure",
        ["Lethe:Blobs:ConnectionString"] = TestEnvironment.Azurite,
        ["Lethe:Blobs:ContainerPrefix"] = Prefix,
    };
}

public sealed class LabAzureStorageTests(LabAzureServers servers) : IClassFixture<LabAzureServers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_lab_storage_on_Azure_keeps_the_export_and_deleting_the_group_removes_lab_and_files(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        await lab.CreateVmAsync(lab.User1.Client, "u1-vm", Ct);

        var done = await lab.Admin.WaitForOperationAsync((await lab.Admin.ExportLabResourceUsageAsync(lab.SubscriptionId, lab.Group, lab.Lab, new ExportLabResourceUsageRequest(), Ct)).Id, ct: Ct);
        var files = await lab.Admin.ListLabUsageExportsAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct);
        string header;
        await using (var stream = await lab.Admin.DownloadLabUsageExportAsync(lab.SubscriptionId, lab.Group, lab.Lab, files[1].Folder, "disks.csv", Ct))
        using (var reader = new StreamReader(stream))
        {
            header = (await reader.ReadLineAsync(Ct))!;
        }

        Assert.True(done.Status == OperationStates.Succeeded, done.Error?.Message);
        Assert.Equal(["virtualmachines.csv", "disks.csv"], files.Select(f => f.Name));
        Assert.Equal(string.Join(',', SeedColumns.Disks), header);

        var owner = await host.SignInAsync(Demo.DemoAccounts.Operator, Ct);
        var deleted = await owner.WaitForOperationAsync((await owner.SendAsync<OperationStatus>(HttpMethod.Delete, $"subscriptions/{lab.SubscriptionId:D}/resourceGroups/{lab.Group}", null, Ct)).Name, ct: Ct);

        Assert.True(deleted.Status == OperationStates.Succeeded, deleted.Error?.Message);
        Assert.Equal(0, await host.WithDbAsync(db => Task.FromResult(db.Labs.Count(l => l.Id == lab.Resource.Properties.UniqueIdentifier))));
        Assert.Equal(0, await host.WithDbAsync(db => Task.FromResult(db.LabVirtualMachines.Count(v => v.LabId == lab.Resource.Properties.UniqueIdentifier))));
        var blobs = host.Factory.Services.GetRequiredService<IBlobStore>();
        var left = 0;
        await foreach (var _ in blobs.ListAsync(ExportLabUsage.Container, $"DevLab/{lab.Resource.Properties.UniqueIdentifier:D}/", Ct))
        {
            left++;
        }
        Assert.Equal(0, left);
    }
}
