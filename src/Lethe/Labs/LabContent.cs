using Lethe.Blobs;
using Lethe.Resources;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Labs;

/// What labs keep in a resource group, deleted with it: the labs' rows and their exports in the lab storage.
public sealed class LabContent(LetheDb db, IBlobStore blobs) : IResourceGroupContent
{
    public string Name => "labs";

    public async Task<IReadOnlyList<KeptResource>> DeleteAllAsync(Guid subscriptionId, string resourceGroupKey, CancellationToken ct)
    {
        var labs = await db.Labs.AsNoTracking().Where(l => l.SubscriptionId == subscriptionId && l.ResourceGroupKey == resourceGroupKey).ToListAsync(ct);
        foreach (var lab in labs)
        {
            await DeleteLabAsync(db, blobs, lab, ct);
        }
        return [];
    }

    /// Blobs first, then the rows that name them, then the blobs again (idempotent: a crash runs it again over
    /// what is left).
    public static async Task DeleteLabAsync(LetheDb db, IBlobStore blobs, Lab lab, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(lab);
        await blobs.PurgePrefixAsync(ExportLabUsage.Container, StoragePrefix(lab), ct);
        await db.LabShutdownNotices.Where(n => db.LabVirtualMachines.Any(v => v.Id == n.VmId && v.LabId == lab.Id)).ExecuteDeleteAsync(ct);
        await db.LabCosts.Where(c => c.LabId == lab.Id).ExecuteDeleteAsync(ct);
        await db.LabDisks.Where(d => d.LabId == lab.Id).ExecuteDeleteAsync(ct);
        await db.LabVirtualMachines.Where(v => v.LabId == lab.Id).ExecuteDeleteAsync(ct);
        await db.Labs.Where(l => l.Id == lab.Id).ExecuteDeleteAsync(ct);
        // Rights at the lab and its VMs and disks go with it, after its row: a role assignment made meanwhile either
        // committed before the row went (and goes here) or finds the lab gone and takes itself back (decision 0071).
        await LiveScope.RemoveAssignmentsAsync(db, lab.ScopeKey, ct);
        // Again: an export that put a file after the first sweep checks its lab after the put (decision 0071);
        // if it still saw the lab, its file is complete by now and goes here.
        await blobs.PurgePrefixAsync(ExportLabUsage.Container, StoragePrefix(lab), ct);
    }

    /// Where a lab's own exports are kept in the blob store: under its name and LabUId.
    public static string StoragePrefix(Lab lab)
    {
        ArgumentNullException.ThrowIfNull(lab);
        return $"{lab.Name}/{lab.Id:D}/";
    }
}
