using CsvHelper;
using Lethe.Privacy;
using Lethe.Privacy.Requests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Labs;

/// Seed 002 asks a lab admin to export the lab's usage and "filter the content for the lab user" when that user asks
/// for their data: Lethe does it for them. Every export bundle carries <c>data/Labs/virtualmachines.csv</c> and
/// <c>data/Labs/disks.csv</c>: the person's own VMs and disks (every lab, deleted ones too while they are held), in
/// exactly the seed's columns, computed from the live data.
public static class LabsBundleFiles
{
    public static IEnumerable<PersonalBundleFile> All { get; } =
    [
        new("Labs", "virtualmachines.csv",
            "The lab virtual machines you own, in every lab, with the columns of a lab usage export (virtualmachines.csv).",
            (sp, keys, output, ct) => VirtualMachinesAsync(sp.GetRequiredService<LetheDb>(), keys, output, ct)),
        new("Labs", "disks.csv",
            "The lab disks you own, in every lab, with the columns of a lab usage export (disks.csv).",
            (sp, keys, output, ct) => DisksAsync(sp.GetRequiredService<LetheDb>(), keys, output, ct)),
    ];

    public static async Task<long> VirtualMachinesAsync(LetheDb db, SubjectKeys keys, Stream output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(keys);
        var owners = keys.ObjectIds.Select(id => (Guid?)id).ToList();
        var rows = from vm in db.LabVirtualMachines.AsNoTracking()
                   join lab in db.Labs.AsNoTracking() on vm.LabId equals lab.Id
                   where owners.Contains(vm.OwnerObjectId)
                   orderby vm.LabId, vm.CreatedAt, vm.Id
                   select new { lab, vm };
        long written = 0;
        await using var writer = CsvWriter.Create(output, leaveOpen: true);
        writer.WriteHeader<VirtualMachineUsageRow>();
        await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(ct))
        {
            writer.WriteRecord(LabUsageRows.ToRow(row.lab, row.vm));
            written++;
        }
        await writer.FlushAsync(ct);
        return written;
    }

    public static async Task<long> DisksAsync(LetheDb db, SubjectKeys keys, Stream output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(keys);
        var owners = keys.ObjectIds.Select(id => (Guid?)id).ToList();
        var rows = from disk in db.LabDisks.AsNoTracking()
                   join lab in db.Labs.AsNoTracking() on disk.LabId equals lab.Id
                   join vm in db.LabVirtualMachines.AsNoTracking() on disk.LeasedByVmId equals (Guid?)vm.Id into leased
                   from vm in leased.DefaultIfEmpty()
                   where owners.Contains(disk.OwnerObjectId)
                   orderby disk.LabId, disk.CreatedAt, disk.Id
                   select new { lab, disk, VmName = vm == null ? null : vm.Name };
        long written = 0;
        await using var writer = CsvWriter.Create(output, leaveOpen: true);
        writer.WriteHeader<DiskUsageRow>();
        await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(ct))
        {
            writer.WriteRecord(LabUsageRows.ToRow(row.lab, row.disk, row.VmName));
            written++;
        }
        await writer.FlushAsync(ct);
        return written;
    }
}
