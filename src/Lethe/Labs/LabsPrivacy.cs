using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Lethe.Blobs;
using Lethe.Privacy;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Labs;

/// Seed 002's rule for a person's lab data, as the privacy engine applies it. Each Labs location needs its own
/// source because erasure here is retain-then-anonymize, which the generic source cannot do: the person's VMs and
/// disks are deleted as the user would delete them, their notification emails are removed as the user would remove
/// them, and all of it stays for the lab's period (cost reports) before the sweep anonymizes it, unless a privacy
/// officer asks for <c>anonymizeNow</c>. The dates come from the lab's own period.
public static class LabsPrivacy
{
    internal static readonly Guid? Anonymous = LabUsageRows.AnonymousOwner;

    public static IEnumerable<IPersonalDataSource> Sources(LetheDb db, PersonalDataMap map, IBlobStore blobs)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(map);
        yield return new LabEmailSource(db, map.For<Lab>());
        yield return new VirtualMachineSource(db, map.For<LabVirtualMachine>());
        yield return new DiskSource(db, map.For<LabDisk>());
        yield return new CostSource(db, map.For<LabCost>());
        yield return new UsageExportSource(db, blobs);
    }

    /// The person's object IDs as the owner columns (nullable) compare them.
    private static List<Guid?> Owners(SubjectKeys keys) => [.. keys.ObjectIds.Select(id => (Guid?)id)];

    /// When data retained from <paramref name="from"/> becomes anonymous in a lab of <paramref name="days"/>.
    public static DateTimeOffset AnonymousOn(DateTimeOffset from, int days) => from.AddDays(days);

    /// The lab's notification emails (current and removed ones still retained).
    private sealed class LabEmailSource(LetheDb db, PersonalDataLocation location) : IPersonalDataSource
    {
        private readonly TableSource<Lab> _table = new(db, location);

        public string Location => location.Name;

        public IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, CancellationToken ct) => _table.FindAsync(keys, ct);

        public async Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            var emails = keys.Emails.ToList();
            var labs = await db.Labs.Where(l => emails.Contains(l.NotificationEmail!) || emails.Contains(l.RemovedNotificationEmail!)).OrderBy(l => l.Id).ToListAsync(ct);
            if (context.DryRun || labs.Count == 0)
            {
                return Outcome(labs.Count, labs, context);
            }
            foreach (var lab in labs)
            {
                if (lab.NotificationEmail is { } current && emails.Contains(current))
                {
                    NotificationEmails.Change(lab, "", context.Now);
                }
                if (context.AnonymizeNow && lab.RemovedNotificationEmail is { } removed && emails.Contains(removed))
                {
                    lab.RemovedNotificationEmail = null;
                    lab.NotificationEmailRemovedAt = null;
                }
            }
            await db.SaveChangesAsync(ct);
            return Outcome(labs.Count, labs, context);
        }

        private static ErasureResult Outcome(int count, List<Lab> labs, ErasureContext context)
            => context.AnonymizeNow || count == 0
                ? new(count, ErasureOutcome.Anonymized)
                : new(count, ErasureOutcome.AnonymizedOn, labs.Max(l => AnonymousOn(l.NotificationEmailRemovedAt ?? context.Now, l.AnonymizeAfterDays)));

        public async Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            var emails = keys.Emails.ToList();
            var current = await db.Labs.LongCountAsync(l => emails.Contains(l.NotificationEmail!), ct);
            var retained = await db.Labs.Where(l => emails.Contains(l.RemovedNotificationEmail!))
                .Select(l => new { l.NotificationEmailRemovedAt, l.AnonymizeAfterDays }).ToListAsync(ct);
            return new(current, retained.Count, retained.Count == 0 ? null : retained.Max(r => AnonymousOn(r.NotificationEmailRemovedAt ?? context.Now, r.AnonymizeAfterDays)));
        }
    }

    private sealed class VirtualMachineSource(LetheDb db, PersonalDataLocation location) : IPersonalDataSource
    {
        private readonly TableSource<LabVirtualMachine> _table = new(db, location);

        public string Location => location.Name;

        public IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, CancellationToken ct) => _table.FindAsync(keys, ct);

        public async Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            if (_table.Rows(keys) is not { } rows)
            {
                return new(0, ErasureOutcome.Anonymized);
            }
            var owners = Owners(keys);
            var emails = keys.Emails.ToList();
            var matched = await rows.Select(v => new { v.Id, v.LabId, v.DeletedAt, Days = v.Lab!.AnonymizeAfterDays }).ToListAsync(ct);
            // A live VM is deleted (or its email removed) now; a deleted one is retained from its deletion.
            var date = matched.Count == 0 ? (DateTimeOffset?)null
                : matched.Max(v => AnonymousOn(v.DeletedAt ?? context.Now, v.Days));
            if (context.DryRun)
            {
                return Outcome(matched.Count, date, context);
            }
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // As the user would delete their VMs: inactive from now, its disks detached.
            var live = db.LabVirtualMachines.Where(v => owners.Contains(v.OwnerObjectId) && v.DeletedAt == null);
            await db.LabDisks.Where(d => live.Any(v => v.Id == d.LeasedByVmId)).ExecuteUpdateAsync(s => s.SetProperty(d => d.LeasedByVmId, (Guid?)null), ct);
            await live.ExecuteUpdateAsync(s => s.SetProperty(v => v.DeletedAt, context.Now).SetProperty(v => v.Running, false).SetProperty(v => v.Claimable, false), ct);
            // As the user would remove their email from a VM: kept as removed for the lab's period.
            var withEmail = await db.LabVirtualMachines.Where(v => emails.Contains(v.NotificationEmail!)).ToListAsync(ct);
            foreach (var vm in withEmail)
            {
                NotificationEmails.Change(vm, "", context.Now);
            }
            await db.SaveChangesAsync(ct);
            if (context.AnonymizeNow)
            {
                await db.LabVirtualMachines.Where(v => owners.Contains(v.OwnerObjectId))
                    .ExecuteUpdateAsync(s => s.SetProperty(v => v.OwnerObjectId, Anonymous).SetProperty(v => v.AnonymizedAt, context.Now), ct);
                await db.LabVirtualMachines.Where(v => emails.Contains(v.RemovedNotificationEmail!))
                    .ExecuteUpdateAsync(s => s.SetProperty(v => v.RemovedNotificationEmail, (string?)null).SetProperty(v => v.NotificationEmailRemovedAt, (DateTimeOffset?)null), ct);
            }
            await transaction.CommitAsync(ct);
            return Outcome(matched.Count, date, context);
        }

        public async Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            var owners = Owners(keys);
            var emails = keys.Emails.ToList();
            var residue = await db.LabVirtualMachines.LongCountAsync(v => (owners.Contains(v.OwnerObjectId) && v.DeletedAt == null) || emails.Contains(v.NotificationEmail!), ct);
            var retained = await db.LabVirtualMachines
                .Where(v => (owners.Contains(v.OwnerObjectId) && v.DeletedAt != null) || emails.Contains(v.RemovedNotificationEmail!))
                .Select(v => new { v.DeletedAt, v.NotificationEmailRemovedAt, Days = v.Lab!.AnonymizeAfterDays }).ToListAsync(ct);
            return new(residue, retained.Count, retained.Count == 0 ? null : retained.Max(v => AnonymousOn(v.DeletedAt ?? v.NotificationEmailRemovedAt ?? context.Now, v.Days)));
        }
    }

    private sealed class DiskSource(LetheDb db, PersonalDataLocation location) : IPersonalDataSource
    {
        private readonly TableSource<LabDisk> _table = new(db, location);

        public string Location => location.Name;

        public IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, CancellationToken ct) => _table.FindAsync(keys, ct);

        public async Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            var owners = Owners(keys);
            var mine = db.LabDisks.Where(d => owners.Contains(d.OwnerObjectId));
            var matched = await (from d in mine join l in db.Labs on d.LabId equals l.Id select new { d.DeletedAt, l.AnonymizeAfterDays }).ToListAsync(ct);
            var date = matched.Count == 0 ? (DateTimeOffset?)null : matched.Max(d => AnonymousOn(d.DeletedAt ?? context.Now, d.AnonymizeAfterDays));
            if (!context.DryRun && matched.Count > 0)
            {
                await mine.Where(d => d.DeletedAt == null).ExecuteUpdateAsync(s => s.SetProperty(d => d.DeletedAt, context.Now).SetProperty(d => d.LeasedByVmId, (Guid?)null), ct);
                if (context.AnonymizeNow)
                {
                    await mine.ExecuteUpdateAsync(s => s.SetProperty(d => d.OwnerObjectId, Anonymous).SetProperty(d => d.AnonymizedAt, context.Now), ct);
                }
            }
            return Outcome(matched.Count, date, context);
        }

        public async Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            var owners = Owners(keys);
            var residue = await db.LabDisks.LongCountAsync(d => owners.Contains(d.OwnerObjectId) && d.DeletedAt == null, ct);
            var retained = await (from d in db.LabDisks.Where(d => owners.Contains(d.OwnerObjectId) && d.DeletedAt != null)
                                  join l in db.Labs on d.LabId equals l.Id
                                  select new { d.DeletedAt, l.AnonymizeAfterDays }).ToListAsync(ct);
            return new(residue, retained.Count, retained.Count == 0 ? null : retained.Max(d => AnonymousOn(d.DeletedAt!.Value, d.AnonymizeAfterDays)));
        }
    }

    /// Cost records keep their amounts forever (totals per lab never change); the owner goes with its resource.
    private sealed class CostSource(LetheDb db, PersonalDataLocation location) : IPersonalDataSource
    {
        private readonly TableSource<LabCost> _table = new(db, location);

        public string Location => location.Name;

        public IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, CancellationToken ct) => _table.FindAsync(keys, ct);

        public async Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            var owners = Owners(keys);
            var mine = db.LabCosts.Where(c => owners.Contains(c.OwnerObjectId));
            var count = await mine.LongCountAsync(ct);
            var period = count == 0 ? 0 : await (from c in mine join l in db.Labs on c.LabId equals l.Id select l.AnonymizeAfterDays).MaxAsync(ct);
            if (!context.DryRun && context.AnonymizeNow && count > 0)
            {
                await mine.ExecuteUpdateAsync(s => s.SetProperty(c => c.OwnerObjectId, Anonymous), ct);
            }
            return Outcome(count, count == 0 ? null : AnonymousOn(context.Now, period), context);
        }

        public async Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            var owners = Owners(keys);
            // Costs of resources the person still holds live are residue; the others are retained with their resource.
            var liveVms = db.LabVirtualMachines.Where(v => owners.Contains(v.OwnerObjectId) && v.DeletedAt == null).Select(v => v.Id);
            var liveDisks = db.LabDisks.Where(d => owners.Contains(d.OwnerObjectId) && d.DeletedAt == null).Select(d => d.Id);
            var mine = db.LabCosts.Where(c => owners.Contains(c.OwnerObjectId));
            var residue = await mine.LongCountAsync(c => liveVms.Contains(c.ResourceUId) || liveDisks.Contains(c.ResourceUId), ct);
            var total = await mine.LongCountAsync(ct);
            var period = total == 0 ? 0 : await (from c in mine join l in db.Labs on c.LabId equals l.Id select l.AnonymizeAfterDays).MaxAsync(ct);
            return new(residue, total - residue, total - residue == 0 ? null : AnonymousOn(context.Now, period));
        }
    }

    private static ErasureResult Outcome(long count, DateTimeOffset? date, ErasureContext context)
        => context.AnonymizeNow || count == 0 ? new(count, ErasureOutcome.Anonymized) : new(count, ErasureOutcome.AnonymizedOn, date);

    /// Usage exports stored in Lethe hold many people's rows, so they are never deleted for one person: when the
    /// person's lab data is anonymized, their object ID is anonymized inside every stored CSV of their labs too, by a
    /// streaming rewrite that keeps the columns.
    public sealed class UsageExportSource(LetheDb db, IBlobStore blobs) : IPersonalBlobSource
    {
        public const string Prefix = "{labName}/{labUId}/";

        public string Location => $"{ExportLabUsage.Container}/{Prefix}";

        public async IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, [EnumeratorCancellation] CancellationToken ct)
        {
            await foreach (var blob in BlobsAsync(keys, ct))
            {
                yield return new JsonObject { ["container"] = blob.Container, ["name"] = blob.Name };
            }
        }

        /// The stored exports of the labs where the person owns or owned a VM, that name them.
        public async IAsyncEnumerable<PersonalBlob> BlobsAsync(SubjectKeys keys, [EnumeratorCancellation] CancellationToken ct)
        {
            await foreach (var (name, _) in NamingAsync(keys, ct))
            {
                yield return new PersonalBlob(ExportLabUsage.Container, name, "A lab usage export that lists the person as a VM's owner.") { Shared = true };
            }
        }

        public async Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(context);
            long rows = 0;
            await foreach (var (name, found) in NamingAsync(keys, ct))
            {
                rows += found;
                if (!context.DryRun && context.AnonymizeNow)
                {
                    await AnonymizeOwnersAsync(blobs, name, Needles(keys), null, ct);
                }
            }
            return context.AnonymizeNow || rows == 0 ? new(rows, ErasureOutcome.Anonymized)
                : new(rows, ErasureOutcome.AnonymizedOn, AnonymousOn(context.Now, await PeriodAsync(keys, ct)));
        }

        public async Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(context);
            long rows = 0;
            await foreach (var (_, found) in NamingAsync(keys, ct))
            {
                rows += found;
            }
            // Until the lab's period ends the rows are retained with the VMs they describe.
            return rows == 0 ? Residue.None : new Residue(0, rows, AnonymousOn(context.Now, await PeriodAsync(keys, ct)));
        }

        private static List<string> Needles(SubjectKeys keys) => [.. keys.ObjectIds.Select(id => id.ToString("D"))];

        /// Each stored export of the person's labs that names them, with how many of its rows do.
        private async IAsyncEnumerable<(string Name, int Rows)> NamingAsync(SubjectKeys keys, [EnumeratorCancellation] CancellationToken ct)
        {
            var needles = Needles(keys);
            foreach (var prefix in await LabPrefixesAsync(keys, ct))
            {
                await foreach (var blob in blobs.ListAsync(ExportLabUsage.Container, prefix, ct))
                {
                    if (await CountAsync(blob.Name, needles, ct) is > 0 and var rows)
                    {
                        yield return (blob.Name, rows);
                    }
                }
            }
        }

        private async Task<int> PeriodAsync(SubjectKeys keys, CancellationToken ct)
        {
            var owners = Owners(keys);
            return await db.LabVirtualMachines.Where(v => owners.Contains(v.OwnerObjectId)).Select(v => (int?)v.Lab!.AnonymizeAfterDays).MaxAsync(ct) ?? Lab.DefaultAnonymizeAfterDays;
        }

        /// The export folders of the labs where the person owns or owned a VM (an index seek on the owner).
        private async Task<List<string>> LabPrefixesAsync(SubjectKeys keys, CancellationToken ct)
        {
            var owners = Owners(keys);
            if (owners.Count == 0)
            {
                return [];
            }
            var labIds = db.LabVirtualMachines.Where(v => owners.Contains(v.OwnerObjectId)).Select(v => v.LabId).Distinct();
            var labs = await db.Labs.AsNoTracking().Where(l => labIds.Contains(l.Id)).Select(l => new { l.Name, l.Id }).ToListAsync(ct);
            return [.. labs.Select(l => $"{l.Name}/{l.Id:D}/")];
        }

        private async Task<int> CountAsync(string name, List<string> needles, CancellationToken ct)
        {
            if (needles.Count == 0)
            {
                return 0;
            }
            try
            {
                await using var stream = await blobs.OpenReadAsync(ExportLabUsage.Container, name, ct);
                using var reader = new StreamReader(stream);
                var count = 0;
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    if (needles.Any(n => line.Contains(n, StringComparison.OrdinalIgnoreCase)))
                    {
                        count++;
                    }
                }
                return count;
            }
            catch (BlobNotFoundException)
            {
                return 0;
            }
        }

        /// Rewrites one CSV with each occurrence of one of <paramref name="owners"/> replaced by the anonymous owner
        /// (in the rows <paramref name="rowFilter"/> accepts, all when null), streamed through a pipe into a put: readers
        /// see the old file or the whole new one. An object ID is a GUID, which needs no quoting and has the anonymous
        /// owner's length, so a text replacement keeps every column as it was. Returns the rows changed.
        public static async Task<int> AnonymizeOwnersAsync(IBlobStore blobs, string name, IReadOnlyCollection<string> owners, Func<string, bool>? rowFilter, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(blobs);
            ArgumentNullException.ThrowIfNull(owners);
            if (owners.Count == 0)
            {
                return 0;
            }
            var pipe = new Pipe();
            var changed = 0;
            var anonymous = LabUsageRows.AnonymousOwner.ToString("D");
            async Task ProduceAsync()
            {
                try
                {
                    await using var source = await blobs.OpenReadAsync(ExportLabUsage.Container, name, ct);
                    using var reader = new StreamReader(source);
                    await using (var writer = new StreamWriter(pipe.Writer.AsStream(leaveOpen: true), new System.Text.UTF8Encoding(false), 1 << 16))
                    {
                        // Line by line with each line's own terminator, so the file is the same byte for byte but the IDs.
                        await foreach (var line in LinesAsync(reader, ct))
                        {
                            var row = line;
                            if (rowFilter is null || rowFilter(line))
                            {
                                foreach (var owner in owners)
                                {
                                    row = row.Replace(owner, anonymous, StringComparison.OrdinalIgnoreCase);
                                }
                            }
                            changed += row == line ? 0 : 1;
                            await writer.WriteAsync(row.AsMemory(), ct);
                        }
                    }
                    await pipe.Writer.CompleteAsync();
                }
                catch (Exception e)
                {
                    await pipe.Writer.CompleteAsync(e);
                }
            }
            var produce = ProduceAsync();
            try
            {
                await using var content = pipe.Reader.AsStream();
                await blobs.PutAsync(ExportLabUsage.Container, name, content, "text/csv", ct);
            }
            finally
            {
                await produce;
            }
            return changed;
        }

        /// The lines of a text, each with its terminator (LF or CRLF) as written; the last one may have none.
        private static async IAsyncEnumerable<string> LinesAsync(StreamReader reader, [EnumeratorCancellation] CancellationToken ct)
        {
            var buffer = new char[1 << 14];
            var line = new System.Text.StringBuilder();
            int read;
            while ((read = await reader.ReadAsync(buffer.AsMemory(), ct)) > 0)
            {
                var start = 0;
                for (var i = 0; i < read; i++)
                {
                    if (buffer[i] == '\n')
                    {
                        line.Append(buffer, start, i - start + 1);
                        yield return line.ToString();
                        line.Clear();
                        start = i + 1;
                    }
                }
                line.Append(buffer, start, read - start);
            }
            if (line.Length > 0)
            {
                yield return line.ToString();
            }
        }
    }
}
