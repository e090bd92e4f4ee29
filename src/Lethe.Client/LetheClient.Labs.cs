namespace Lethe.Client;

public sealed partial class LetheClient
{
    private static string LabPath(Guid subscriptionId, string resourceGroup, string lab)
        => $"subscriptions/{subscriptionId:D}/resourceGroups/{Segment(resourceGroup)}/providers/Microsoft.DevTestLab/labs/{Segment(lab)}";

    public IAsyncEnumerable<LabResource> ListLabsAsync(Guid subscriptionId, CancellationToken ct = default)
        => ListAsync<LabResource>($"subscriptions/{subscriptionId:D}/providers/Microsoft.DevTestLab/labs", ct);

    public IAsyncEnumerable<LabResource> ListLabsAsync(Guid subscriptionId, string resourceGroup, CancellationToken ct = default)
        => ListAsync<LabResource>($"subscriptions/{subscriptionId:D}/resourceGroups/{Segment(resourceGroup)}/providers/Microsoft.DevTestLab/labs", ct);

    public Task<LabResource> GetLabAsync(Guid subscriptionId, string resourceGroup, string lab, CancellationToken ct = default)
        => SendAsync<LabResource>(HttpMethod.Get, LabPath(subscriptionId, resourceGroup, lab), null, ct);

    public Task<LabResource> CreateOrUpdateLabAsync(Guid subscriptionId, string resourceGroup, string lab, CreateLabRequest request, CancellationToken ct = default)
        => SendAsync<LabResource>(HttpMethod.Put, LabPath(subscriptionId, resourceGroup, lab), request, ct);

    /// Changes settings only (notification email: empty removes it; schedule; time zone; anonymization period).
    public Task<LabResource> UpdateLabAsync(Guid subscriptionId, string resourceGroup, string lab, LabSettings settings, CancellationToken ct = default)
        => SendAsync<LabResource>(HttpMethod.Patch, LabPath(subscriptionId, resourceGroup, lab), settings, ct);

    public Task DeleteLabAsync(Guid subscriptionId, string resourceGroup, string lab, CancellationToken ct = default)
        => SendAsync(HttpMethod.Delete, LabPath(subscriptionId, resourceGroup, lab), null, ct);

    // Virtual machines

    public IAsyncEnumerable<LabVirtualMachineResource> ListLabVirtualMachinesAsync(Guid subscriptionId, string resourceGroup, string lab, bool includeDeleted = false, CancellationToken ct = default)
        => ListAsync<LabVirtualMachineResource>(LabPath(subscriptionId, resourceGroup, lab) + "/virtualmachines" + (includeDeleted ? "?includeDeleted=true" : ""), ct);

    public Task<LabVirtualMachineResource> GetLabVirtualMachineAsync(Guid subscriptionId, string resourceGroup, string lab, string vm, CancellationToken ct = default)
        => SendAsync<LabVirtualMachineResource>(HttpMethod.Get, $"{LabPath(subscriptionId, resourceGroup, lab)}/virtualmachines/{Segment(vm)}", null, ct);

    public Task<LabVirtualMachineResource> CreateLabVirtualMachineAsync(Guid subscriptionId, string resourceGroup, string lab, string vm, LabVirtualMachineCreateProperties properties, CancellationToken ct = default)
        => SendAsync<LabVirtualMachineResource>(HttpMethod.Put, $"{LabPath(subscriptionId, resourceGroup, lab)}/virtualmachines/{Segment(vm)}", new CreateLabVirtualMachineRequest(properties), ct);

    public Task<LabVirtualMachineResource> UpdateLabVirtualMachineAsync(Guid subscriptionId, string resourceGroup, string lab, string vm, UpdateLabVirtualMachineRequest request, CancellationToken ct = default)
        => SendAsync<LabVirtualMachineResource>(HttpMethod.Patch, $"{LabPath(subscriptionId, resourceGroup, lab)}/virtualmachines/{Segment(vm)}", request, ct);

    public Task<LabVirtualMachineResource> ClaimLabVirtualMachineAsync(Guid subscriptionId, string resourceGroup, string lab, string vm, CancellationToken ct = default)
        => SendAsync<LabVirtualMachineResource>(HttpMethod.Post, $"{LabPath(subscriptionId, resourceGroup, lab)}/virtualmachines/{Segment(vm)}/claim", null, ct);

    public Task DeleteLabVirtualMachineAsync(Guid subscriptionId, string resourceGroup, string lab, string vm, CancellationToken ct = default)
        => SendAsync(HttpMethod.Delete, $"{LabPath(subscriptionId, resourceGroup, lab)}/virtualmachines/{Segment(vm)}", null, ct);

    // Disks

    /// The disks the caller sees; <paramref name="includeDeleted"/> adds the deleted ones (Inactive) the caller sees.
    public IAsyncEnumerable<LabDiskResource> ListLabDisksAsync(Guid subscriptionId, string resourceGroup, string lab, bool includeDeleted = false, CancellationToken ct = default)
        => ListAsync<LabDiskResource>(LabPath(subscriptionId, resourceGroup, lab) + "/disks" + (includeDeleted ? "?includeDeleted=true" : ""), ct);

    public Task<LabDiskResource> CreateLabDiskAsync(Guid subscriptionId, string resourceGroup, string lab, string disk, LabDiskCreateProperties properties, CancellationToken ct = default)
        => SendAsync<LabDiskResource>(HttpMethod.Put, $"{LabPath(subscriptionId, resourceGroup, lab)}/disks/{Segment(disk)}", new CreateLabDiskRequest(properties), ct);

    public Task<LabDiskResource> AttachLabDiskAsync(Guid subscriptionId, string resourceGroup, string lab, string disk, string vm, CancellationToken ct = default)
        => SendAsync<LabDiskResource>(HttpMethod.Post, $"{LabPath(subscriptionId, resourceGroup, lab)}/disks/{Segment(disk)}/attach", new AttachDiskRequest(vm), ct);

    public Task<LabDiskResource> DetachLabDiskAsync(Guid subscriptionId, string resourceGroup, string lab, string disk, CancellationToken ct = default)
        => SendAsync<LabDiskResource>(HttpMethod.Post, $"{LabPath(subscriptionId, resourceGroup, lab)}/disks/{Segment(disk)}/detach", null, ct);

    public Task DeleteLabDiskAsync(Guid subscriptionId, string resourceGroup, string lab, string disk, CancellationToken ct = default)
        => SendAsync(HttpMethod.Delete, $"{LabPath(subscriptionId, resourceGroup, lab)}/disks/{Segment(disk)}", null, ct);

    // Usage export and costs

    /// Seed 002's exportLabResourceUsage: 202 with the operation to poll (<see cref="WaitForOperationAsync"/>).
    public Task<OperationStatus> ExportLabResourceUsageAsync(Guid subscriptionId, string resourceGroup, string lab, ExportLabResourceUsageRequest request, CancellationToken ct = default)
        => SendAsync<OperationStatus>(HttpMethod.Post, $"{LabPath(subscriptionId, resourceGroup, lab)}/exportLabResourceUsage", request, ct);

    /// The exports kept in the lab's own storage (lab admins).
    public async Task<IReadOnlyList<LabUsageExportItem>> ListLabUsageExportsAsync(Guid subscriptionId, string resourceGroup, string lab, CancellationToken ct = default)
        => (await SendAsync<ArmList<LabUsageExportItem>>(HttpMethod.Get, $"{LabPath(subscriptionId, resourceGroup, lab)}/usageExports", null, ct)).Value;

    /// Downloads one exported file of the lab's own storage; the caller disposes the stream.
    public async Task<Stream> DownloadLabUsageExportAsync(Guid subscriptionId, string resourceGroup, string lab, string folder, string name, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var response = await SendRawAsync(HttpMethod.Get, $"{LabPath(subscriptionId, resourceGroup, lab)}/usageExports/content?folder={Uri.EscapeDataString(folder)}&name={Uri.EscapeDataString(name)}", null, ct, HttpCompletionOption.ResponseHeadersRead);
        return await response.Content.ReadAsStreamAsync(ct);
    }

    public Task<LabCostReport> GetLabCostsAsync(Guid subscriptionId, string resourceGroup, string lab, CancellationToken ct = default)
        => SendAsync<LabCostReport>(HttpMethod.Get, $"{LabPath(subscriptionId, resourceGroup, lab)}/costs", null, ct);

    // Auto-shutdown notices: the token comes from the notice email.

    public Task PostponeShutdownAsync(string token, int minutes, CancellationToken ct = default)
        => SendAsync(HttpMethod.Post, $"labs/shutdown-notices/{Segment(token)}/postpone", new PostponeShutdownRequest(minutes), ct);

    public Task SkipShutdownAsync(string token, CancellationToken ct = default)
        => SendAsync(HttpMethod.Post, $"labs/shutdown-notices/{Segment(token)}/skip", null, ct);

    // A VM's pending auto-shutdown: its owner (or a lab admin) sees it and postpones or skips it, with or without the email.

    public Task<LabVmShutdown> GetLabVirtualMachineShutdownAsync(Guid subscriptionId, string resourceGroup, string lab, string vm, CancellationToken ct = default)
        => SendAsync<LabVmShutdown>(HttpMethod.Get, $"{LabPath(subscriptionId, resourceGroup, lab)}/virtualmachines/{Segment(vm)}/shutdown", null, ct);

    public Task<LabVmShutdown> PostponeLabVirtualMachineShutdownAsync(Guid subscriptionId, string resourceGroup, string lab, string vm, int minutes, CancellationToken ct = default)
        => SendAsync<LabVmShutdown>(HttpMethod.Post, $"{LabPath(subscriptionId, resourceGroup, lab)}/virtualmachines/{Segment(vm)}/shutdown/postpone", new PostponeShutdownRequest(minutes), ct);

    public Task<LabVmShutdown> SkipLabVirtualMachineShutdownAsync(Guid subscriptionId, string resourceGroup, string lab, string vm, CancellationToken ct = default)
        => SendAsync<LabVmShutdown>(HttpMethod.Post, $"{LabPath(subscriptionId, resourceGroup, lab)}/virtualmachines/{Segment(vm)}/shutdown/skip", null, ct);
}
