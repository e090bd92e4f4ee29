using Microsoft.EntityFrameworkCore;
using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using CsvHelper;
using Lethe.Client;
using Lethe.Labs;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;

namespace Lethe.Server.Tests.Labs;

public sealed class LabExportTests(LabServers servers) : IClassFixture<LabServers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// A lab with a live VM (with a disk attached), a deleted VM, a claimable VM and a deleted disk.
    private static async Task<LabSetup> PopulatedLabAsync(LetheHost host)
    {
        var lab = await LabSetup.CreateAsync(host, Ct);
        var c = lab.User1.Client;
        await c.CreateLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm",
            new LabVirtualMachineCreateProperties("Standard_B2s", LabSetup.Ubuntu, ExpirationDate: new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero)), Ct);
        await lab.CreateVmAsync(c, "u1-gone", Ct);
        await lab.Admin.CreateLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "pool,\"1\"".Replace(",", "", StringComparison.Ordinal).Replace("\"", "", StringComparison.Ordinal),
            new LabVirtualMachineCreateProperties("Standard, \"special\"", CustomImageId: $"/subscriptions/{lab.SubscriptionId:D}/resourceGroups/img/providers/Microsoft.DevTestLab/labs/DevLab/customimages/golden", AllowClaim: true), Ct);
        await c.CreateLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "data", new LabDiskCreateProperties(128, "Premium"), Ct);
        await c.AttachLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "data", "u1-vm", Ct);
        await c.CreateLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "old", new LabDiskCreateProperties(32), Ct);
        await c.DeleteLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "old", Ct);
        await c.DeleteLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-gone", Ct);
        return lab;
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_export_to_the_lab_storage_writes_both_files_with_the_seed_columns(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await PopulatedLabAsync(host);

        var accepted = await lab.Admin.ExportLabResourceUsageAsync(lab.SubscriptionId, lab.Group, lab.Lab, new ExportLabResourceUsageRequest(), Ct);
        var done = await lab.Admin.WaitForOperationAsync(accepted.Id, ct: Ct);

        Assert.Equal(OperationStates.InProgress, accepted.Status);
        Assert.True(done.Status == OperationStates.Succeeded, done.Error?.Message);
        var files = await lab.Admin.ListLabUsageExportsAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct);
        Assert.Equal(["virtualmachines.csv", "disks.csv"], files.Select(f => f.Name));
        var folder = files[0].Folder;
        Assert.StartsWith($"DevLab/{lab.Resource.Properties.UniqueIdentifier:D}/", folder, StringComparison.Ordinal);
        Assert.EndsWith("/full/", folder, StringComparison.Ordinal);

        var (vmHeader, vms) = await ReadAsync<VirtualMachineUsageRow>(await lab.Admin.DownloadLabUsageExportAsync(lab.SubscriptionId, lab.Group, lab.Lab, folder, "virtualmachines.csv", Ct));
        var (diskHeader, disks) = await ReadAsync<DiskUsageRow>(await lab.Admin.DownloadLabUsageExportAsync(lab.SubscriptionId, lab.Group, lab.Lab, folder, "disks.csv", Ct));

        Assert.Equal(SeedColumns.VirtualMachines, vmHeader);
        Assert.Equal(SeedColumns.Disks, diskHeader);
        Assert.Equal(23, vmHeader.Count);
        Assert.Equal(15, diskHeader.Count);
        Assert.Equal(["u1-vm", "u1-gone", "pool1"], vms.Select(v => v.Name));
        var live = vms[0];
        Assert.Equal(lab.Resource.Properties.UniqueIdentifier.ToString("D"), live.LabUId);
        Assert.Equal(lab.Resource.Id, live.LabResourceId);
        Assert.Equal(lab.Resource.Id + "/virtualmachines/u1-vm", live.ResourceId);
        Assert.Equal(lab.User1.ObjectId.ToString("D"), live.ResourceOwner);
        Assert.Equal("Active", live.ResourceStatus);
        Assert.Null(live.DeletedDate);
        Assert.Equal(new DateTime(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc), live.ExpirationDate);
        Assert.Equal("Canonical", live.GalleryImageReferencePublisher);
        Assert.Equal($"/subscriptions/{lab.SubscriptionId:D}/resourceGroups/labs-rg/providers/Microsoft.Compute/virtualMachines/u1-vm", live.ComputeResourceId);
        Assert.Equal("Inactive", vms[1].ResourceStatus);
        Assert.NotNull(vms[1].DeletedDate);
        var pool = vms[2];
        Assert.True(pool.Claimable);
        Assert.Equal("", pool.ResourceOwner);
        Assert.Equal("Standard, \"special\"", pool.PricingTier);
        Assert.Equal("", pool.GalleryImageReferenceOffer);
        Assert.EndsWith("/customimages/golden", pool.CustomImageId, StringComparison.Ordinal);
        Assert.Equal(["data", "old"], disks.Select(d => d.Name));
        Assert.Equal(live.ResourceId, disks[0].LeasedByVmId);
        Assert.Equal(1, disks[0].DiskType);
        Assert.Equal(128, disks[0].DiskSizeGB);
        Assert.Equal("Inactive", disks[1].ResourceStatus);
        Assert.Equal("", disks[1].LeasedByVmId);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_export_to_a_SAS_URI_lands_in_labresourceusage_and_a_later_one_does_not_overwrite_it(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await PopulatedLabAsync(host);
        var service = new BlobServiceClient(TestEnvironment.Azurite);
        var sas = service.GenerateAccountSasUri(AccountSasPermissions.Write | AccountSasPermissions.Create | AccountSasPermissions.Read | AccountSasPermissions.List, DateTimeOffset.UtcNow.AddHours(1), AccountSasResourceTypes.All).ToString();
        var today = DateOnly.FromDateTime(DateTime.UtcNow).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var first = await lab.Admin.WaitForOperationAsync((await lab.Admin.ExportLabResourceUsageAsync(lab.SubscriptionId, lab.Group, lab.Lab, new ExportLabResourceUsageRequest(sas, today + "T17:45:00"), Ct)).Id, ct: Ct);
        var second = await lab.Admin.WaitForOperationAsync((await lab.Admin.SendAsync<OperationStatus>(HttpMethod.Post,
            $"subscriptions/{lab.SubscriptionId:D}/resourceGroups/{lab.Group}/providers/Microsoft.DevTestLab/labs/{lab.Lab}/exportResourceUsage", new ExportLabResourceUsageRequest(sas), Ct)).Id, ct: Ct);

        Assert.True(first.Status == OperationStates.Succeeded, first.Error?.Message);
        Assert.True(second.Status == OperationStates.Succeeded, second.Error?.Message);
        var container = service.GetBlobContainerClient("labresourceusage");
        var names = new List<string>();
        await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"DevLab/{lab.Resource.Properties.UniqueIdentifier:D}/", cancellationToken: Ct))
        {
            names.Add(blob.Name);
        }
        Assert.Equal(4, names.Count);
        Assert.Equal(2, names.Count(n => n.EndsWith($"/{today}/virtualmachines.csv", StringComparison.Ordinal) || n.EndsWith($"/{today}/disks.csv", StringComparison.Ordinal)));
        Assert.Equal(2, names.Count(n => n.Contains("/full/", StringComparison.Ordinal)));
        var vmBlob = names.First(n => n.Contains($"/{today}/", StringComparison.Ordinal) && n.EndsWith("virtualmachines.csv", StringComparison.Ordinal));
        var (header, rows) = await ReadAsync<VirtualMachineUsageRow>((await container.GetBlobClient(vmBlob).DownloadStreamingAsync(cancellationToken: Ct)).Value.Content);
        Assert.Equal(SeedColumns.VirtualMachines, header);
        // Created today: every VM existed in the window that starts today.
        Assert.Equal(3, rows.Count);
        // The SAS URI is a credential: once the exports ended, their jobs no longer keep it.
        var payloads = await host.WithDbAsync(db => db.Jobs.Where(j => j.Id == Guid.Parse(first.Name) || j.Id == Guid.Parse(second.Name)).Select(j => j.Payload).ToListAsync(Ct));
        Assert.Equal(2, payloads.Count);
        Assert.All(payloads, p => Assert.DoesNotContain("sig=", p, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_container_SAS_URI_writes_into_that_container(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await PopulatedLabAsync(host);
        var container = new BlobServiceClient(TestEnvironment.Azurite).GetBlobContainerClient("labexp-" + Guid.NewGuid().ToString("N")[..12]);
        await container.CreateAsync(cancellationToken: Ct);
        var sas = container.GenerateSasUri(BlobContainerSasPermissions.Write | BlobContainerSasPermissions.Create, DateTimeOffset.UtcNow.AddHours(1)).ToString();

        var done = await lab.Admin.WaitForOperationAsync((await lab.Admin.ExportLabResourceUsageAsync(lab.SubscriptionId, lab.Group, lab.Lab, new ExportLabResourceUsageRequest(sas), Ct)).Id, ct: Ct);

        Assert.True(done.Status == OperationStates.Succeeded, done.Error?.Message);
        var names = new List<string>();
        await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, null, Ct))
        {
            names.Add(blob.Name[(blob.Name.LastIndexOf('/') + 1)..]);
        }
        Assert.Equal(["disks.csv", "virtualmachines.csv"], names.Order(StringComparer.Ordinal));
        await container.DeleteAsync(cancellationToken: Ct);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_SAS_URI_the_storage_refuses_fails_the_operation_with_the_storage_error_and_leaves_no_file(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var service = new BlobServiceClient(TestEnvironment.Azurite);
        var good = service.GenerateAccountSasUri(AccountSasPermissions.Write | AccountSasPermissions.Create, DateTimeOffset.UtcNow.AddHours(1), AccountSasResourceTypes.All).ToString();
        var forged = System.Text.RegularExpressions.Regex.Replace(good, "sig=[^&]+", "sig=AAAA" + Uri.EscapeDataString("bm90IGEgc2lnbmF0dXJl"));

        var accepted = await lab.Admin.ExportLabResourceUsageAsync(lab.SubscriptionId, lab.Group, lab.Lab, new ExportLabResourceUsageRequest(forged), Ct);
        var done = await lab.Admin.WaitForOperationAsync(accepted.Id, ct: Ct);

        Assert.Equal(OperationStates.Failed, done.Status);
        Assert.Contains("storage account refused", done.Error!.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", done.Error.Message, StringComparison.Ordinal);
        var container = service.GetBlobContainerClient("labresourceusage");
        if (await container.ExistsAsync(Ct))
        {
            await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"DevLab/{lab.Resource.Properties.UniqueIdentifier:D}/", cancellationToken: Ct))
            {
                Assert.Fail("A refused export left " + blob.Name);
            }
        }
    }

    public static TheoryData<DatabaseProvider, string, string, string> BadRequests
    {
        get
        {
            var service = new BlobServiceClient(TestEnvironment.Azurite);
            var expired = service.GenerateAccountSasUri(AccountSasPermissions.Write, DateTimeOffset.UtcNow.AddMinutes(-5), AccountSasResourceTypes.All).ToString();
            var readOnly = service.GenerateAccountSasUri(AccountSasPermissions.Read, DateTimeOffset.UtcNow.AddHours(1), AccountSasResourceTypes.All).ToString();
            var future = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(3)).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            var data = new TheoryData<DatabaseProvider, string, string, string>();
            foreach (var p in new[] { DatabaseProvider.Sqlite, DatabaseProvider.Postgres })
            {
                data.Add(p, "", "yesterday", "usageStartDate");
                data.Add(p, "", future, "usageStartDate");
                data.Add(p, "not a uri", "", "blobStorageAbsoluteSasUri");
                data.Add(p, "http://storage.example.com/c?sv=2024&se=2099-01-01&sp=w&sig=x", "", "blobStorageAbsoluteSasUri");
                data.Add(p, "https://acct.blob.core.windows.net/c", "", "blobStorageAbsoluteSasUri");
                data.Add(p, expired, "", "blobStorageAbsoluteSasUri");
                data.Add(p, readOnly, "", "blobStorageAbsoluteSasUri");
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_date_or_SAS_URI_is_a_400_naming_the_field_and_queues_nothing(DatabaseProvider provider, string sas, string start, string field)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);

        var error = await Assert.ThrowsAsync<LetheValidationException>(() => lab.Admin.ExportLabResourceUsageAsync(lab.SubscriptionId, lab.Group, lab.Lab,
            new ExportLabResourceUsageRequest(sas.Length == 0 ? null : sas, start.Length == 0 ? null : start), Ct));

        Assert.Equal(field, Assert.Single(error.Errors).Key);
        Assert.DoesNotContain("sig=", error.Message, StringComparison.Ordinal);
        var jobs = await host.WithDbAsync(db => Task.FromResult(db.Jobs.Count(j => j.Kind == ExportLabUsage.JobKind && j.ResourceId == lab.Resource.Id)));
        Assert.Equal(0, jobs);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Only_lab_admins_export_and_unknown_labs_are_not_found(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);

        await Assert.ThrowsAsync<LetheForbiddenException>(() => lab.User1.Client.ExportLabResourceUsageAsync(lab.SubscriptionId, lab.Group, lab.Lab, new ExportLabResourceUsageRequest(), Ct));
        await Assert.ThrowsAsync<LetheForbiddenException>(() => lab.User1.Client.ListLabUsageExportsAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => lab.Stranger.Client.ExportLabResourceUsageAsync(lab.SubscriptionId, lab.Group, lab.Lab, new ExportLabResourceUsageRequest(), Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => lab.Admin.ExportLabResourceUsageAsync(lab.SubscriptionId, lab.Group, "nolab", new ExportLabResourceUsageRequest(), Ct));
    }

    private static async Task<(IReadOnlyList<string> Header, List<T> Rows)> ReadAsync<T>(Stream stream)
    {
        await using (stream)
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, Ct);
            buffer.Position = 0;
            using var header = CsvReader.Create(new MemoryStream(buffer.ToArray()));
            var names = header.Headers.ToList();
            using var reader = CsvReader.Create(buffer);
            return (names, reader.GetRecords<T>().ToList());
        }
    }
}
