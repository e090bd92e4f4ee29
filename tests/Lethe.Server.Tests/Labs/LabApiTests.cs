using Lethe.Client;
using Lethe.Testing;

namespace Lethe.Server.Tests.Labs;

public sealed class LabApiTests(LabServers servers) : IClassFixture<LabServers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_lab_is_listed_on_Azure_paths_with_its_LabUId_and_hidden_from_strangers(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);

        var bySubscription = await lab.Admin.ListLabsAsync(lab.SubscriptionId, Ct).ToListAsync(Ct);
        var byGroup = await lab.User1.Client.ListLabsAsync(lab.SubscriptionId, lab.Group, Ct).ToListAsync(Ct);
        var got = await lab.User1.Client.GetLabAsync(lab.SubscriptionId, lab.Group, "devlab", Ct);

        Assert.Equal($"/subscriptions/{lab.SubscriptionId:D}/resourceGroups/labs-rg/providers/Microsoft.DevTestLab/labs/DevLab", lab.Resource.Id);
        Assert.Equal("Microsoft.DevTestLab/labs", lab.Resource.Type);
        Assert.NotEqual(Guid.Empty, lab.Resource.Properties.UniqueIdentifier);
        Assert.Equal([lab.Resource.Id], bySubscription.Select(l => l.Id));
        Assert.Equal([lab.Resource.Id], byGroup.Select(l => l.Id));
        Assert.Equal(lab.Resource.Properties.UniqueIdentifier, got.Properties.UniqueIdentifier);
        Assert.Equal(30, got.Properties.AnonymizeAfterDays);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => lab.Stranger.Client.GetLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => lab.Stranger.Client.ListLabsAsync(lab.SubscriptionId, Ct).ToListAsync(Ct).AsTask());
        await Assert.ThrowsAsync<LetheForbiddenException>(() => lab.User1.Client.UpdateLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, new LabSettings(ShutdownTime: "19:00"), Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Lab_users_see_their_own_and_claimable_VMs_and_one_claim_wins(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        await lab.CreateVmAsync(lab.Admin, "pool-1", Ct, claimable: true);
        await lab.CreateVmAsync(lab.User1.Client, "u1-vm", Ct);
        await lab.CreateVmAsync(lab.User2.Client, "u2-vm", Ct);

        var seenBy1 = await lab.User1.Client.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct);
        var seenByAdmin = await lab.Admin.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct);
        var claimed = await lab.User1.Client.ClaimLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "pool-1", Ct);
        var second = await Assert.ThrowsAsync<LetheNotFoundException>(() => lab.User2.Client.ClaimLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "pool-1", Ct));

        Assert.Equal(["pool-1", "u1-vm"], seenBy1.Select(v => v.Name));
        Assert.Equal(["pool-1", "u1-vm", "u2-vm"], seenByAdmin.Select(v => v.Name));
        Assert.Equal(lab.User1.ObjectId, claimed.Properties.OwnerObjectId);
        Assert.False(claimed.Properties.AllowClaim);
        Assert.NotNull(second);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => lab.User2.Client.GetLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => lab.User2.Client.DeleteLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", Ct));
        await Assert.ThrowsAsync<LetheForbiddenException>(() => lab.CreateVmAsync(lab.User2.Client, "pool-2", Ct, claimable: true));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_deleted_VM_stays_as_an_inactive_record_and_its_disks_are_detached(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var c = lab.User1.Client;
        var vm = await lab.CreateVmAsync(c, "u1-vm", Ct);
        var disk = await c.CreateLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "data", new LabDiskCreateProperties(128, "Premium"), Ct);
        var attached = await c.AttachLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "data", "u1-vm", Ct);
        await Assert.ThrowsAsync<LetheConflictException>(() => c.DeleteLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "data", Ct));

        await c.DeleteLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-vm", Ct);

        var live = await lab.Admin.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct);
        var all = await lab.Admin.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, includeDeleted: true, Ct).ToListAsync(Ct);
        var disks = await c.ListLabDisksAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct);
        Assert.Equal(vm.Id, attached.Properties.LeasedByLabVmId);
        Assert.Equal("Premium", disk.Properties.DiskType);
        Assert.Empty(live);
        var deleted = Assert.Single(all);
        Assert.Equal("Inactive", deleted.Properties.Status);
        Assert.NotNull(deleted.Properties.DeletedDate);
        Assert.Null(Assert.Single(disks).Properties.LeasedByLabVmId);
        await c.DeleteLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "data", Ct);
        Assert.Empty(await c.ListLabDisksAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Bad_VM_input_is_a_problem_naming_the_field_and_writes_nothing(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var c = lab.User1.Client;

        var both = await Assert.ThrowsAsync<LetheValidationException>(() => c.CreateLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "vm",
            new LabVirtualMachineCreateProperties("Standard_B2s", LabSetup.Ubuntu, CustomImageId: "/subscriptions/" + Guid.Empty + "/resourceGroups/x/providers/Microsoft.Compute/images/i"), Ct));
        var email = await Assert.ThrowsAsync<LetheValidationException>(() => c.CreateLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "vm",
            new LabVirtualMachineCreateProperties("Standard_B2s", LabSetup.Ubuntu, NotificationEmail: "not an email"), Ct));
        var time = await Assert.ThrowsAsync<LetheValidationException>(() => lab.Admin.UpdateLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, new LabSettings(TimeZoneId: "Mars/Olympus"), Ct));

        Assert.Equal("properties.galleryImageReference", Assert.Single(both.Errors).Key);
        Assert.Equal("properties.notificationEmail", Assert.Single(email.Errors).Key);
        Assert.DoesNotContain("not an email", email.Message, StringComparison.Ordinal);
        Assert.Equal("timeZoneId", Assert.Single(time.Errors).Key);
        Assert.Empty(await lab.Admin.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, true, Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_lab_user_lists_their_own_deleted_VMs_and_disks_with_includeDeleted(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var c = lab.User1.Client;
        await lab.CreateVmAsync(c, "u1-old", Ct);
        await lab.CreateVmAsync(c, "u1-live", Ct);
        await lab.CreateVmAsync(lab.User2.Client, "u2-old", Ct);
        await lab.CreateVmAsync(lab.Admin, "pool-old", Ct, claimable: true);
        await c.CreateLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-disk", new LabDiskCreateProperties(32), Ct);
        await lab.User2.Client.CreateLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u2-disk", new LabDiskCreateProperties(32), Ct);
        await c.DeleteLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-old", Ct);
        await lab.User2.Client.DeleteLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u2-old", Ct);
        await lab.Admin.DeleteLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "pool-old", Ct);
        await c.DeleteLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-disk", Ct);
        await lab.User2.Client.DeleteLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u2-disk", Ct);

        var vms = await c.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, includeDeleted: true, Ct).ToListAsync(Ct);
        var liveVms = await c.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct);
        var disks = await c.ListLabDisksAsync(lab.SubscriptionId, lab.Group, lab.Lab, includeDeleted: true, Ct).ToListAsync(Ct);
        var liveDisks = await c.ListLabDisksAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct);
        var adminDisks = await lab.Admin.ListLabDisksAsync(lab.SubscriptionId, lab.Group, lab.Lab, includeDeleted: true, Ct).ToListAsync(Ct);

        // Their own deleted VM, as Inactive; not another user's, nor a deleted claimable one.
        Assert.Equal([("u1-live", "Active"), ("u1-old", "Inactive")], vms.Select(v => (v.Name, v.Properties.Status)));
        Assert.Equal(["u1-live"], liveVms.Select(v => v.Name));
        Assert.Equal([("u1-disk", "Inactive")], disks.Select(d => (d.Name, d.Properties.Status)));
        Assert.NotNull(disks[0].Properties.DeletedDate);
        Assert.Empty(liveDisks);
        Assert.Equal(["u1-disk", "u2-disk"], adminDisks.Select(d => d.Name));
        // A deleted VM is listed, not acted on.
        await Assert.ThrowsAsync<LetheNotFoundException>(() => c.GetLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-old", Ct));
    }
}
