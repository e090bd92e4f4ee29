using System.CommandLine;
using System.Globalization;
using Lethe.Client;
using Lethe.Resources;

namespace Lethe.Cli.Commands;

/// `lethe lab ...`: labs, their VMs, disks, notification emails and schedules, costs, and seed 002's
/// usage export. A lab is named by its resource ID
/// (/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DevTestLab/labs/{name}).
internal static class LabCommands
{
    private sealed record LabRef(Guid Subscription, string Group, string Name);

    public static Command Create(Terminal terminal, CommonOptions options)
    {
        Option<string> Lab() => new("--lab") { Description = "The lab's resource ID: /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DevTestLab/labs/{name}", Required = true, HelpName = "ID" };
        Option<string> OptionalVm() => new("--vm") { Description = "A virtual machine of the lab (the lab itself when omitted)", HelpName = "NAME" };

        // lab list
        var listSubscription = new Option<string>("--subscription", "-s") { Description = "The subscription ID (a GUID)", Required = true, HelpName = "ID" };
        var list = new Command("list", "List the labs of a subscription you can see").With(listSubscription, options.Server, options.Output);
        list.Handle(terminal, options, async (run, ct) =>
        {
            if (!Guid.TryParseExact(run.Value(listSubscription), "D", out var sub))
            {
                throw CliException.Usage("--subscription is a GUID.");
            }
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var labs = await connection.Client.ListLabsAsync(sub, ct).ToListAsync(ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(labs);
                return ExitCodes.Success;
            }
            if (labs.Count == 0)
            {
                await run.WriteNothingAsync("No labs.");
                return ExitCodes.Success;
            }
            var table = Invocation.Table("Name", "LabUId", "Location", "Time zone", "ID");
            foreach (var l in labs)
            {
                Invocation.AddRow(table, l.Name, l.Properties.UniqueIdentifier.ToString("D"), l.Location, l.Properties.TimeZoneId, l.Id);
            }
            run.Write(table);
            return ExitCodes.Success;
        });

        // lab export-usage
        var exportLab = Lab();
        var since = new Option<string>("--since") { Description = "First day of usage (yyyy-MM-dd, in the lab's time zone); from the beginning when omitted", HelpName = "DATE" };
        var sasUri = new Option<string>("--sas-uri") { Description = "A Blob Storage SAS URI (account or container) with write permission; the lab's own storage when omitted", HelpName = "URI" };
        var wait = new Option<bool>("--wait") { Description = "Follow the export with a progress bar until it ends" };
        var export = new Command("export-usage", "Export virtualmachines.csv and disks.csv of the lab's usage (lab admins)").With(exportLab, since, sasUri, wait, options.Server, options.Output);
        export.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(exportLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var operation = await connection.Client.ExportLabResourceUsageAsync(lab.Subscription, lab.Group, lab.Name, new ExportLabResourceUsageRequest(run.Value(sasUri), run.Value(since)), ct);
            if (run.Value(wait))
            {
                return await OperationCommands.WaitAsync(run, connection, operation.Name, $"Exporting the usage of {lab.Name}", TimeSpan.FromMilliseconds(500), ct);
            }
            if (run.Json)
            {
                await run.WriteJsonAsync(operation);
            }
            else
            {
                await run.WriteLineAsync($"Exporting the usage of {lab.Name}: operation {operation.Name}. Follow it with `lethe operation wait {operation.Name}`.");
            }
            return ExitCodes.Success;
        });

        // lab exports / lab download
        var exportsLab = Lab();
        var exports = new Command("exports", "List the usage exports kept in the lab's own storage (lab admins)").With(exportsLab, options.Server, options.Output);
        exports.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(exportsLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var items = await connection.Client.ListLabUsageExportsAsync(lab.Subscription, lab.Group, lab.Name, ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(items);
                return ExitCodes.Success;
            }
            if (items.Count == 0)
            {
                await run.WriteNothingAsync("No exports.");
                return ExitCodes.Success;
            }
            var table = Invocation.Table("Folder", "File", "Bytes", "Written");
            foreach (var i in items)
            {
                Invocation.AddRow(table, i.Folder, i.Name, i.Length.ToString(CultureInfo.InvariantCulture), i.LastModified.UtcDateTime.ToString("u", CultureInfo.InvariantCulture));
            }
            run.Write(table);
            return ExitCodes.Success;
        });

        var downloadLab = Lab();
        var folder = new Option<string>("--folder") { Description = "The export's folder, as `lethe lab exports` lists it", Required = true, HelpName = "FOLDER" };
        var file = new Option<string>("--file") { Description = "virtualmachines.csv or disks.csv", Required = true, HelpName = "NAME" };
        var output = new Option<string>("--out") { Description = "Where to write the file (the file's name in the current folder by default)", HelpName = "PATH" };
        var download = new Command("download", "Download one file of an export kept in the lab's own storage").With(downloadLab, folder, file, output, options.Server);
        download.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(downloadLab));
            var name = run.Value(file)!;
            var path = run.Value(output) ?? name;
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var items = await connection.Client.ListLabUsageExportsAsync(lab.Subscription, lab.Group, lab.Name, ct);
            var size = items.FirstOrDefault(i => i.Folder == run.Value(folder) && i.Name == name)?.Length ?? 0;
            await run.WithProgressAsync($"Downloading {name}", Math.Max(size, 1), async report =>
            {
                await using var source = await connection.Client.DownloadLabUsageExportAsync(lab.Subscription, lab.Group, lab.Name, run.Value(folder)!, name, ct);
                await using var target = File.Create(path);
                var buffer = new byte[81920];
                long done = 0;
                int read;
                while ((read = await source.ReadAsync(buffer, ct)) > 0)
                {
                    await target.WriteAsync(buffer.AsMemory(0, read), ct);
                    done += read;
                    report(done);
                }
                return done;
            });
            await run.WriteLineAsync($"Wrote {path}.");
            return ExitCodes.Success;
        });

        return Cli.Group("lab", "DevTest labs: VMs, disks, notification emails, auto-shutdown, costs and the usage export",
            list, export, exports, download, VmCommands(terminal, options, Lab), DiskCommands(terminal, options, Lab),
            EmailCommands(terminal, options, Lab, OptionalVm), ScheduleCommands(terminal, options, Lab, OptionalVm), CostCommand(terminal, options, Lab), PricingCommand(terminal, options, Lab));
    }

    private static Command VmCommands(Terminal terminal, CommonOptions options, Func<Option<string>> labOption)
    {
        var listLab = labOption();
        var includeDeleted = new Option<bool>("--include-deleted") { Description = "Also list deleted VMs (yours; every one for lab admins)" };
        var list = new Command("list", "List the VMs you can see: all for lab admins, yours and the claimable ones for lab users").With(listLab, includeDeleted, options.Server, options.Output);
        list.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(listLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var vms = await connection.Client.ListLabVirtualMachinesAsync(lab.Subscription, lab.Group, lab.Name, run.Value(includeDeleted), ct).ToListAsync(ct);
            await WriteVmsAsync(run, vms);
            return ExitCodes.Success;
        });

        var createLab = labOption();
        var name = new Argument<string>("NAME") { Description = "The VM's name" };
        var tier = new Option<string>("--pricing-tier") { Description = "Pricing tier (size), such as Standard_B2s", DefaultValueFactory = _ => "Standard_B2s", HelpName = "TIER" };
        var image = new Option<string>("--image") { Description = "Gallery image as publisher:offer:sku:osType:version, e.g. Canonical:ubuntu-24_04-lts:server:Linux:latest", HelpName = "IMAGE" };
        var customImage = new Option<string>("--custom-image") { Description = "Resource ID of a custom image (instead of --image)", HelpName = "ID" };
        var claimable = new Option<bool>("--claimable") { Description = "Make a claimable VM with no owner (lab admins)" };
        var environment = new Option<string>("--environment") { Description = "Resource ID of the environment the VM belongs to", HelpName = "ID" };
        var expires = new Option<DateTimeOffset?>("--expires") { Description = "Expiration date (ISO 8601)", HelpName = "DATE" };
        var create = new Command("create", "Create a VM") { name }.With(createLab, tier, image, customImage, claimable, environment, expires, options.Server, options.Output);
        create.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(createLab));
            GalleryImageReferenceContract? gallery = null;
            if (run.Value(image) is { } text)
            {
                var parts = text.Split(':');
                if (parts.Length != 5)
                {
                    throw CliException.Usage("--image is publisher:offer:sku:osType:version.");
                }
                gallery = new GalleryImageReferenceContract(parts[0], parts[1], parts[2], parts[3], parts[4]);
            }
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var vm = await connection.Client.CreateLabVirtualMachineAsync(lab.Subscription, lab.Group, lab.Name, run.Value(name)!,
                new LabVirtualMachineCreateProperties(run.Value(tier)!, gallery, run.Value(customImage), run.Value(claimable), run.Value(environment), run.Value(expires)), ct);
            await WriteVmsAsync(run, [vm], single: true);
            return ExitCodes.Success;
        });

        var claimLab = labOption();
        var claimName = new Argument<string>("NAME") { Description = "The claimable VM's name" };
        var claim = new Command("claim", "Claim a claimable VM: it becomes yours") { claimName }.With(claimLab, options.Server, options.Output);
        claim.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(claimLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var vm = await connection.Client.ClaimLabVirtualMachineAsync(lab.Subscription, lab.Group, lab.Name, run.Value(claimName)!, ct);
            await WriteVmsAsync(run, [vm], single: true);
            return ExitCodes.Success;
        });

        var deleteLab = labOption();
        var deleteName = new Argument<string>("NAME") { Description = "The VM's name" };
        var delete = new Command("delete", "Delete a VM (kept as an inactive record; its personal data is anonymized after the lab's period)") { deleteName }.With(deleteLab, options.Server);
        delete.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(deleteLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            await connection.Client.DeleteLabVirtualMachineAsync(lab.Subscription, lab.Group, lab.Name, run.Value(deleteName)!, ct);
            await run.WriteLineAsync($"Deleted {run.Value(deleteName)}.");
            return ExitCodes.Success;
        });

        return Cli.Group("vm", "Lab virtual machines", list, create, claim, delete);
    }

    private static Command DiskCommands(Terminal terminal, CommonOptions options, Func<Option<string>> labOption)
    {
        var listLab = labOption();
        var includeDeleted = new Option<bool>("--include-deleted") { Description = "Also list deleted disks (yours; every one for lab admins)" };
        var list = new Command("list", "List the disks you can see").With(listLab, includeDeleted, options.Server, options.Output);
        list.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(listLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            await WriteDisksAsync(run, await connection.Client.ListLabDisksAsync(lab.Subscription, lab.Group, lab.Name, run.Value(includeDeleted), ct).ToListAsync(ct));
            return ExitCodes.Success;
        });

        var createLab = labOption();
        var name = new Argument<string>("NAME") { Description = "The disk's name" };
        var size = new Option<int>("--size-gb") { Description = "Size in GB", Required = true, HelpName = "GB" };
        var type = new Option<string>("--type") { Description = "Standard or Premium", DefaultValueFactory = _ => "Standard", HelpName = "TYPE" };
        var create = new Command("create", "Create a data disk") { name }.With(createLab, size, type, options.Server, options.Output);
        create.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(createLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var disk = await connection.Client.CreateLabDiskAsync(lab.Subscription, lab.Group, lab.Name, run.Value(name)!, new LabDiskCreateProperties(run.Value(size), run.Value(type)!), ct);
            await WriteDisksAsync(run, [disk], single: true);
            return ExitCodes.Success;
        });

        var attachLab = labOption();
        var attachName = new Argument<string>("NAME") { Description = "The disk's name" };
        var vm = new Option<string>("--vm") { Description = "The VM to attach the disk to", Required = true, HelpName = "NAME" };
        var attach = new Command("attach", "Attach a disk to a VM") { attachName }.With(attachLab, vm, options.Server, options.Output);
        attach.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(attachLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var disk = await connection.Client.AttachLabDiskAsync(lab.Subscription, lab.Group, lab.Name, run.Value(attachName)!, run.Value(vm)!, ct);
            await WriteDisksAsync(run, [disk], single: true);
            return ExitCodes.Success;
        });

        var detachLab = labOption();
        var detachName = new Argument<string>("NAME") { Description = "The disk's name" };
        var detach = new Command("detach", "Detach a disk from its VM") { detachName }.With(detachLab, options.Server, options.Output);
        detach.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(detachLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var disk = await connection.Client.DetachLabDiskAsync(lab.Subscription, lab.Group, lab.Name, run.Value(detachName)!, ct);
            await WriteDisksAsync(run, [disk], single: true);
            return ExitCodes.Success;
        });

        var deleteLab = labOption();
        var deleteName = new Argument<string>("NAME") { Description = "The disk's name" };
        var delete = new Command("delete", "Delete a detached disk (kept as an inactive record)") { deleteName }.With(deleteLab, options.Server);
        delete.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(deleteLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            await connection.Client.DeleteLabDiskAsync(lab.Subscription, lab.Group, lab.Name, run.Value(deleteName)!, ct);
            await run.WriteLineAsync($"Deleted {run.Value(deleteName)}.");
            return ExitCodes.Success;
        });

        return Cli.Group("disk", "Lab data disks", list, create, attach, detach, delete);
    }

    private static Command EmailCommands(Terminal terminal, CommonOptions options, Func<Option<string>> labOption, Func<Option<string>> vmOption)
    {
        var setLab = labOption();
        var setVm = vmOption();
        var address = new Argument<string>("EMAIL") { Description = "Where auto-shutdown notices go" };
        var set = new Command("set", "Set the notification email of the lab, or of one VM (the VM's wins)") { address }.With(setLab, setVm, options.Server);
        set.Handle(terminal, options, (run, ct) => ChangeEmailAsync(run, run.Value(setLab), run.Value(setVm), run.Value(address)!, ct));

        var removeLab = labOption();
        var removeVm = vmOption();
        var remove = new Command("remove", "Remove the notification email (kept for the lab's period, then anonymized)").With(removeLab, removeVm, options.Server);
        remove.Handle(terminal, options, (run, ct) => ChangeEmailAsync(run, run.Value(removeLab), run.Value(removeVm), "", ct));

        return Cli.Group("email", "Notification email of a lab or VM", set, remove);
    }

    private static async Task<int> ChangeEmailAsync(Invocation run, string? labId, string? vm, string email, CancellationToken ct)
    {
        var lab = ParseLab(labId);
        using var connection = await run.ConnectAsync(signedIn: true, ct);
        if (vm is null)
        {
            await connection.Client.UpdateLabAsync(lab.Subscription, lab.Group, lab.Name, new LabSettings(NotificationEmail: email), ct);
        }
        else
        {
            await connection.Client.UpdateLabVirtualMachineAsync(lab.Subscription, lab.Group, lab.Name, vm, new UpdateLabVirtualMachineRequest(NotificationEmail: email), ct);
        }
        // The address itself is not echoed: terminals get logged.
        await run.WriteLineAsync(email.Length == 0 ? "Notification email removed." : "Notification email set.");
        return ExitCodes.Success;
    }

    private static Command ScheduleCommands(Terminal terminal, CommonOptions options, Func<Option<string>> labOption, Func<Option<string>> vmOption)
    {
        var setLab = labOption();
        var setVm = vmOption();
        var time = new Option<string>("--time") { Description = "Daily shutdown time, HH:mm in the lab's time zone", Required = true, HelpName = "HH:MM" };
        var notice = new Option<int?>("--notice-minutes") { Description = "How long before the shutdown the notice is sent (lab only)", HelpName = "MINUTES" };
        var zone = new Option<string>("--time-zone") { Description = "The lab's IANA time zone, e.g. Europe/Paris (lab only)", HelpName = "ZONE" };
        var set = new Command("set", "Set the auto-shutdown schedule of the lab, or of one VM").With(setLab, setVm, time, notice, zone, options.Server);
        set.Handle(terminal, options, (run, ct) => ChangeScheduleAsync(run, run.Value(setLab), run.Value(setVm), run.Value(time)!, run.Value(notice), run.Value(zone), ct));

        var clearLab = labOption();
        var clearVm = vmOption();
        var clear = new Command("clear", "Remove the schedule of the lab (no auto-shutdown), or of one VM (it follows the lab's)").With(clearLab, clearVm, options.Server);
        clear.Handle(terminal, options, (run, ct) => ChangeScheduleAsync(run, run.Value(clearLab), run.Value(clearVm), "", null, null, ct));

        Option<string> Vm() => new("--vm") { Description = "The VM (yours, or any as a lab admin)", Required = true, HelpName = "NAME" };
        var showLab = labOption();
        var showVm = Vm();
        var show = new Command("show", "Show a VM's pending shutdown: when, its notice, and whether the notice's email was sent").With(showLab, showVm, options.Server, options.Output);
        show.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(showLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            await WriteShutdownAsync(run, await connection.Client.GetLabVirtualMachineShutdownAsync(lab.Subscription, lab.Group, lab.Name, run.Value(showVm)!, ct));
            return ExitCodes.Success;
        });

        var postponeLab = labOption();
        var postponeVm = Vm();
        var minutes = new Option<int>("--minutes")
        {
            Description = $"Shut down this many minutes after the scheduled time ({Lethe.Labs.ShutdownNotices.MinPostponeMinutes} to {Lethe.Labs.ShutdownNotices.MaxPostponeMinutes})",
            Required = true,
            HelpName = "MINUTES",
        };
        var postpone = new Command("postpone", "Postpone a VM's pending shutdown (with or without its notice's email)").With(postponeLab, postponeVm, minutes, options.Server, options.Output);
        postpone.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(postponeLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            await WriteShutdownAsync(run, await connection.Client.PostponeLabVirtualMachineShutdownAsync(lab.Subscription, lab.Group, lab.Name, run.Value(postponeVm)!, run.Value(minutes), ct));
            return ExitCodes.Success;
        });

        var skipLab = labOption();
        var skipVm = Vm();
        var skip = new Command("skip", "Skip a VM's pending shutdown: it keeps running until the next scheduled one").With(skipLab, skipVm, options.Server, options.Output);
        skip.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(skipLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            await WriteShutdownAsync(run, await connection.Client.SkipLabVirtualMachineShutdownAsync(lab.Subscription, lab.Group, lab.Name, run.Value(skipVm)!, ct));
            return ExitCodes.Success;
        });

        return Cli.Group("schedule", "Auto-shutdown schedules, and a VM's pending shutdown", set, clear, show, postpone, skip);
    }

    private static async Task WriteShutdownAsync(Invocation run, LabVmShutdown shutdown)
    {
        if (run.Json)
        {
            await run.WriteJsonAsync(shutdown);
            return;
        }
        var mail = shutdown.Mail is not { } m ? "not sent yet"
            : m.State == "Failed" ? $"failed {m.Attempts} time(s): {m.LastError}" + (m.NextAttemptAt is { } next ? $" next try {next:u}" : " no more tries")
            : m.State == "Sent" ? $"sent {m.SentAt:u}"
            : m.State;
        run.Write(Invocation.Details(
            ("State", shutdown.State),
            ("Scheduled", shutdown.ScheduledFor.ToString("u", CultureInfo.InvariantCulture)),
            ("Shuts down", shutdown.State == "Skipped" ? "skipped" : shutdown.ShutdownAt.ToString("u", CultureInfo.InvariantCulture)),
            ("Notice at", shutdown.NoticeAt.ToString("u", CultureInfo.InvariantCulture)),
            ("Notice email", mail)));
    }

    private static Command PricingCommand(Terminal terminal, CommonOptions options, Func<Option<string>> labOption)
    {
        var pricingLab = labOption();
        var vmPrice = new Option<string[]>("--vm-price") { Description = "A VM pricing tier's price per day, as TIER=PRICE, e.g. Standard_B2s=0.99 (repeat for more)", HelpName = "TIER=PRICE", AllowMultipleArgumentsPerToken = false };
        var otherPrice = new Option<decimal?>("--other-vm-price") { Description = "The price per day of the tiers not listed", HelpName = "PRICE" };
        var diskPrice = new Option<string[]>("--disk-price") { Description = "A disk type's price per GiB and month, as Standard=0.05 or Premium=0.15 (repeat for both)", HelpName = "TYPE=PRICE", AllowMultipleArgumentsPerToken = false };
        var pricing = new Command("pricing", "Show the lab's prices (costs accrue daily from them), or change some (lab admins)").With(pricingLab, vmPrice, otherPrice, diskPrice, options.Server, options.Output);
        pricing.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(pricingLab));
            var vms = Prices(run.Value(vmPrice), "--vm-price");
            var disks = Prices(run.Value(diskPrice), "--disk-price");
            var other = run.Value(otherPrice);
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var resource = vms is null && disks is null && other is null
                ? await connection.Client.GetLabAsync(lab.Subscription, lab.Group, lab.Name, ct)
                : await connection.Client.UpdateLabAsync(lab.Subscription, lab.Group, lab.Name, new LabSettings(Pricing: new LabPricing(vms, other, disks)), ct);
            var p = resource.Properties.Pricing!;
            if (run.Json)
            {
                await run.WriteJsonAsync(p);
                return ExitCodes.Success;
            }
            var table = Invocation.Table("Resource", "Price");
            foreach (var (tier, price) in p.VirtualMachinePerDay ?? new Dictionary<string, decimal>())
            {
                Invocation.AddRow(table, "VM " + tier, price.ToString(CultureInfo.InvariantCulture) + " per day");
            }
            Invocation.AddRow(table, "VM, other tiers", (p.OtherVirtualMachinePerDay ?? 0).ToString(CultureInfo.InvariantCulture) + " per day");
            foreach (var (type, price) in p.DiskPerGiBMonth ?? new Dictionary<string, decimal>())
            {
                Invocation.AddRow(table, type + " disk", price.ToString(CultureInfo.InvariantCulture) + " per GiB and month");
            }
            run.Write(table);
            return ExitCodes.Success;
        });
        return pricing;
    }

    private static Dictionary<string, decimal>? Prices(string[]? values, string option)
    {
        if (values is not { Length: > 0 })
        {
            return null;
        }
        var prices = new Dictionary<string, decimal>(StringComparer.OrdinalIgnoreCase);
        foreach (var value in values)
        {
            var eq = value.LastIndexOf('=');
            if (eq <= 0 || !decimal.TryParse(value[(eq + 1)..], NumberStyles.Number, CultureInfo.InvariantCulture, out var price))
            {
                throw CliException.Usage($"{option} is NAME=PRICE with a number such as 0.99.");
            }
            prices[value[..eq].Trim()] = price;
        }
        return prices;
    }

    private static async Task<int> ChangeScheduleAsync(Invocation run, string? labId, string? vm, string time, int? notice, string? zone, CancellationToken ct)
    {
        var lab = ParseLab(labId);
        using var connection = await run.ConnectAsync(signedIn: true, ct);
        if (vm is null)
        {
            await connection.Client.UpdateLabAsync(lab.Subscription, lab.Group, lab.Name, new LabSettings(ShutdownTime: time, ShutdownNoticeMinutes: notice, TimeZoneId: zone), ct);
        }
        else
        {
            if (notice is not null || zone is not null)
            {
                throw CliException.Usage("--notice-minutes and --time-zone are lab settings; leave out --vm to change them.");
            }
            await connection.Client.UpdateLabVirtualMachineAsync(lab.Subscription, lab.Group, lab.Name, vm, new UpdateLabVirtualMachineRequest(ShutdownTime: time), ct);
        }
        await run.WriteLineAsync(time.Length == 0 ? "Schedule cleared." : $"Shutdown at {time} daily.");
        return ExitCodes.Success;
    }

    private static Command CostCommand(Terminal terminal, CommonOptions options, Func<Option<string>> labOption)
    {
        var costLab = labOption();
        var costs = new Command("costs", "Month-to-date cost by resource and the month-over-month trend").With(costLab, options.Server, options.Output);
        costs.Handle(terminal, options, async (run, ct) =>
        {
            var lab = ParseLab(run.Value(costLab));
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var report = await connection.Client.GetLabCostsAsync(lab.Subscription, lab.Group, lab.Name, ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(report);
                return ExitCodes.Success;
            }
            run.Write(Invocation.Details(
                ("Month", report.Month),
                ("Month to date", Money(report.MonthToDate, report.Currency)),
                ("Estimated month", Money(report.EstimatedMonthTotal, report.Currency))));
            var trend = Invocation.Table("Month", "Total");
            foreach (var m in report.Trend)
            {
                Invocation.AddRow(trend, m.Month, Money(m.Total, report.Currency));
            }
            run.Write(trend);
            var byResource = Invocation.Table("Resource", "Owner", "Month to date");
            foreach (var r in report.ByResource)
            {
                Invocation.AddRow(byResource, r.ResourceName, r.OwnerObjectId?.ToString("D") ?? "", Money(r.Cost, report.Currency));
            }
            run.Write(byResource);
            return ExitCodes.Success;
        });
        return costs;
    }

    private static string Money(decimal amount, string currency) => amount.ToString("N2", CultureInfo.InvariantCulture) + " " + currency;

    private static LabRef ParseLab(string? value)
    {
        if (!ResourceId.TryParse(value, out var id, out var problem))
        {
            throw CliException.Usage("--lab is not a resource ID: " + problem);
        }
        if (!string.Equals(id.ResourceType, "Microsoft.DevTestLab/labs", StringComparison.OrdinalIgnoreCase) || id.ResourceGroup is null)
        {
            throw CliException.Usage("--lab names a lab: /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DevTestLab/labs/{name}.");
        }
        return new LabRef(id.SubscriptionId!.Value, id.ResourceGroup, id.Name!);
    }

    private static async Task WriteVmsAsync(Invocation run, List<LabVirtualMachineResource> vms, bool single = false)
    {
        if (run.Json)
        {
            await (single ? run.WriteJsonAsync(vms[0]) : run.WriteJsonAsync(vms));
            return;
        }
        if (vms.Count == 0)
        {
            await run.WriteNothingAsync("No virtual machines.");
            return;
        }
        var table = Invocation.Table("Name", "Status", "Power", "Owner", "Claimable", "Tier", "ID");
        foreach (var v in vms)
        {
            var p = v.Properties;
            Invocation.AddRow(table, v.Name, p.Status, p.PowerState, p.OwnerObjectId?.ToString("D") ?? "", p.AllowClaim ? "yes" : "no", p.PricingTier, v.Id);
        }
        run.Write(table);
    }

    private static async Task WriteDisksAsync(Invocation run, List<LabDiskResource> disks, bool single = false)
    {
        if (run.Json)
        {
            await (single ? run.WriteJsonAsync(disks[0]) : run.WriteJsonAsync(disks));
            return;
        }
        if (disks.Count == 0)
        {
            await run.WriteNothingAsync("No disks.");
            return;
        }
        var table = Invocation.Table("Name", "Size (GB)", "Type", "Attached to", "Blob", "Status");
        foreach (var d in disks)
        {
            var p = d.Properties;
            Invocation.AddRow(table, d.Name, p.DiskSizeGiB.ToString(CultureInfo.InvariantCulture), p.DiskType, p.LeasedByLabVmId?.Split('/')[^1] ?? "", p.DiskBlobName, p.Status);
        }
        run.Write(table);
    }
}
