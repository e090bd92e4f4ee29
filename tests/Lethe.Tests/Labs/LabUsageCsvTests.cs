using System.Globalization;
using System.Text;
using CsvHelper;
using Lethe.Labs;
using Lethe.Resources;
using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Tests.Labs;

/// The database writes the usage export's CSV itself; these tests hold it, byte for byte, to what the
/// row objects of <see cref="LabUsageRows"/> written by CsvHelper give (the files as they always were).
public sealed class LabUsageCsvTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly DateTimeOffset T0 = new(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static async Task<(ServiceProvider Services, Lab Lab)> LabAsync(TestDatabase database)
    {
        var services = new ServiceCollection();
        if (database.Provider == DatabaseProvider.Sqlite)
        {
            services.AddLetheSqlite(database.ConnectionString);
        }
        else
        {
            services.AddLethePostgres(database.ConnectionString);
        }
        var provider = services.BuildServiceProvider();
        var subscription = Guid.NewGuid();
        var lab = new Lab
        {
            Id = Guid.NewGuid(), SubscriptionId = subscription, ResourceGroup = "Labs-RG", ResourceGroupKey = "labs-rg",
            Name = "Dev(Lab).1", NameKey = "dev(lab).1", ScopeKey = "x", Location = "westeurope", TimeZoneId = "Europe/Berlin", CreatedAt = T0,
        };
        await using var db = database.CreateContext();
        db.Subscriptions.Add(new Subscription { Id = subscription, DisplayName = "s", CreatedAt = T0 });
        db.ResourceGroups.Add(new ResourceGroup { SubscriptionId = subscription, Name = "Labs-RG", NameKey = "labs-rg", Location = "westeurope", CreatedAt = T0 });
        db.Labs.Add(lab);
        var vms = new List<LabVirtualMachine>();
        for (var i = 0; i < 7; i++)
        {
            vms.Add(new LabVirtualMachine
            {
                Id = Guid.NewGuid(), LabId = lab.Id, Name = $"vm-{i}", NameKey = $"vm-{i}",
                // Fractions of a second are cut, never rounded up; two VMs share a creation time (ordered by ID).
                CreatedAt = T0.AddSeconds(i / 2).AddTicks(9_999_999 - i),
                DeletedAt = i % 3 == 1 ? T0.AddDays(2).AddTicks(5_000_000) : null,
                OwnerObjectId = i switch { 0 => null, 4 => LabUsageRows.AnonymousOwner, _ => Guid.NewGuid() },
                Claimable = i == 0,
                PricingTier = i switch { 2 => "Standard, \"promo\"", 3 => "", _ => "Standard_B2s" },
                EnvironmentId = i == 5 ? "line one\nline \"two\"\r\nthree" : i == 6 ? "" : null,
                ExpirationDate = i == 1 ? new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234) : null,
                ImagePublisher = i == 3 ? null : "Canonical", ImageOffer = i == 3 ? null : "ubuntu-24_04-lts", ImageSku = i == 6 ? "" : "server",
                ImageOsType = i == 3 ? null : "Linux", ImageVersion = i == 3 ? null : "latest",
                CustomImageId = i == 3 ? "/subscriptions/x/resourceGroups/img/providers/Microsoft.DevTestLab/labs/L/customimages/golden" : null,
                NotificationEmail = "someone@example.com",
            });
        }
        // Rows of several kilobytes, quotes and commas throughout: the files are far larger than the export's
        // 64 KiB row buffer, so rows meet its end at every kind of place (a quoted field, a doubled quote).
        for (var i = 7; i < 60; i++)
        {
            vms.Add(new LabVirtualMachine
            {
                Id = Guid.NewGuid(), LabId = lab.Id, Name = $"vm-{i}", NameKey = $"vm-{i}", CreatedAt = T0.AddSeconds(i),
                OwnerObjectId = Guid.NewGuid(), PricingTier = "Standard_B2s",
                EnvironmentId = string.Concat(Enumerable.Repeat($"a\"b,{i}", 2040 / (5 + i.ToString(CultureInfo.InvariantCulture).Length))),
                NotificationEmail = "someone@example.com",
            });
        }
        db.LabVirtualMachines.AddRange(vms);
        for (var i = 0; i < 5; i++)
        {
            db.LabDisks.Add(new LabDisk
            {
                Id = Guid.NewGuid(), LabId = lab.Id, Name = $"disk-{i}", NameKey = $"disk-{i}",
                CreatedAt = T0.AddMinutes(i).AddTicks(7_654_321), DeletedAt = i == 2 ? T0.AddDays(1) : null,
                SizeGb = 32 << i, DiskType = i % 2, BlobName = i == 3 ? "blob,with \"quotes\".vhd" : $"disks/disk-{i}.vhd",
                // Attached to a live VM, a deleted one, none.
                LeasedByVmId = i switch { 0 => vms[0].Id, 1 => vms[1].Id, _ => null },
                OwnerObjectId = Guid.NewGuid(),
            });
        }
        await db.SaveChangesAsync(Ct);
        return (provider, lab);
    }

    private static async Task<string> ExportAsync(TestDatabase database, ServiceProvider services, Lab lab, LabUsageFile file, DateTimeOffset? start, DateTimeOffset end)
    {
        await using var db = database.CreateContext();
        var source = services.GetRequiredService<ILabUsageCsvSource>();
        await using var csv = await source.OpenAsync(db, LabUsageQuery.For(lab, file, start, end), Ct);
        using var output = new MemoryStream();
        // Small reads: the line-end transform and the row buffer must cope with any split.
        var buffer = new byte[7];
        int n;
        while ((n = await csv.ReadAsync(buffer, Ct)) > 0)
        {
            output.Write(buffer, 0, n);
        }
        Assert.Equal(output.Length, csv.Bytes);
        var text = Encoding.UTF8.GetString(output.ToArray());
        Assert.Equal(CountRecords(text), csv.Rows);
        return text;
    }

    /// The reference: the entities of the window as EF reads them, made rows by <see cref="LabUsageRows"/>, written by CsvHelper.
    private static async Task<string> ExpectedAsync(TestDatabase database, Lab lab, LabUsageFile file, DateTimeOffset? start, DateTimeOffset end)
    {
        await using var db = database.CreateContext();
        using var output = new MemoryStream();
        await using (var writer = CsvWriter.Create(output, leaveOpen: true))
        {
            var vms = await db.LabVirtualMachines.AsNoTracking().Where(v => v.LabId == lab.Id).ToListAsync(Ct);
            if (file == LabUsageFile.VirtualMachines)
            {
                var rows = vms.Where(v => v.CreatedAt <= end && (start == null || v.DeletedAt == null || v.DeletedAt >= start))
                    .OrderBy(v => v.CreatedAt).ThenBy(v => v.Id, Comparer<Guid>.Create(CompareAsStored(database)))
                    .Select(v => LabUsageRows.ToRow(lab, v));
                writer.WriteRecords(rows);
            }
            else
            {
                var disks = await db.LabDisks.AsNoTracking().Where(d => d.LabId == lab.Id).ToListAsync(Ct);
                var rows = disks.Where(d => d.CreatedAt <= end && (start == null || d.DeletedAt == null || d.DeletedAt >= start))
                    .OrderBy(d => d.CreatedAt).ThenBy(d => d.Id, Comparer<Guid>.Create(CompareAsStored(database)))
                    .Select(d => LabUsageRows.ToRow(lab, d, vms.FirstOrDefault(v => v.Id == d.LeasedByVmId)?.Name));
                writer.WriteRecords(rows);
            }
            await writer.FlushAsync(Ct);
        }
        return Encoding.UTF8.GetString(output.ToArray());
    }

    // SQLite orders GUIDs as upper-case text, PostgreSQL as 16 bytes in their written order.
    private static Comparison<Guid> CompareAsStored(TestDatabase database) => database.Provider == DatabaseProvider.Sqlite
        ? (a, b) => string.CompareOrdinal(a.ToString("D").ToUpperInvariant(), b.ToString("D").ToUpperInvariant())
        : (a, b) => string.CompareOrdinal(a.ToString("N"), b.ToString("N"));

    private static long CountRecords(string csv)
    {
        var quoted = false;
        var lines = 0L;
        foreach (var c in csv)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == '\n' && !quoted)
            {
                lines++;
            }
        }
        return lines - 1;
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_database_writes_both_files_exactly_as_the_row_objects_do(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider, Ct);
        var (services, lab) = await LabAsync(database);
        await using var _ = services;
        var end = T0.AddDays(3);

        foreach (var file in new[] { LabUsageFile.VirtualMachines, LabUsageFile.Disks })
        {
            var expected = await ExpectedAsync(database, lab, file, null, end);
            var actual = await ExportAsync(database, services, lab, file, null, end);
            Assert.Equal(expected, actual);
        }
        Assert.StartsWith(string.Join(',', LabUsageRows.VirtualMachineColumns) + "\r\n",
            await ExportAsync(database, services, lab, LabUsageFile.VirtualMachines, null, end), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_window_keeps_what_existed_in_it_and_an_empty_one_is_the_header_alone(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider, Ct);
        var (services, lab) = await LabAsync(database);
        await using var _ = services;

        // From after the deletions: the deleted VMs and disk drop out; up to before the first creation: nothing.
        var start = T0.AddDays(2).AddHours(1);
        foreach (var file in new[] { LabUsageFile.VirtualMachines, LabUsageFile.Disks })
        {
            Assert.Equal(await ExpectedAsync(database, lab, file, start, T0.AddDays(3)), await ExportAsync(database, services, lab, file, start, T0.AddDays(3)));
            var empty = await ExportAsync(database, services, lab, file, null, T0.AddSeconds(-1));
            Assert.Equal(string.Join(',', file == LabUsageFile.VirtualMachines ? LabUsageRows.VirtualMachineColumns : LabUsageRows.DiskColumns) + "\r\n", empty);
        }
    }
}
