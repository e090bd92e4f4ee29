using System.CommandLine;
using Lethe.Client;

namespace Lethe.Cli.Commands;

/// `lethe group list|show|create`: resource groups of a subscription.
internal static class GroupCommands
{
    public static Command Create(Terminal terminal, CommonOptions options)
    {
        Option<string> Subscription() => new("--subscription", "-s") { Description = "The subscription ID (a GUID)", Required = true, HelpName = "ID" };

        var listSubscription = Subscription();
        var list = new Command("list", "List the resource groups of a subscription").With(listSubscription, options.Server, options.Output);
        list.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var groups = await connection.Client.ListAsync<ResourceGroupResource>($"subscriptions/{Invocation.Segment(run.Value(listSubscription)!)}/resourceGroups", ct).ToListAsync(ct);
            await WriteAsync(run, groups, "No resource groups.");
            return ExitCodes.Success;
        });

        var showSubscription = Subscription();
        var showName = new Argument<string>("NAME") { Description = "The resource group's name" };
        var show = new Command("show", "Show one resource group") { showName }.With(showSubscription, options.Server, options.Output);
        show.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var group = await connection.Client.SendAsync<ResourceGroupResource>(HttpMethod.Get, Path(run.Value(showSubscription)!, run.Value(showName)!), null, ct);
            await WriteAsync(run, [group], null);
            return ExitCodes.Success;
        });

        var createSubscription = Subscription();
        var name = new Option<string>("--name", "-n") { Description = "The resource group's name", Required = true, HelpName = "NAME" };
        var location = new Option<string>("--location", "-l") { Description = "Its location, such as westeurope", Required = true, HelpName = "LOCATION" };
        var create = new Command("create", "Create a resource group, or move an existing one to another location").With(createSubscription, name, location, options.Server, options.Output);
        create.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var group = await connection.Client.SendAsync<ResourceGroupResource>(
                HttpMethod.Put, Path(run.Value(createSubscription)!, run.Value(name)!), new CreateResourceGroupRequest(run.Value(location)!), ct);
            await WriteAsync(run, [group], null);
            return ExitCodes.Success;
        });

        var deleteSubscription = Subscription();
        var deleteName = new Argument<string>("NAME") { Description = "The resource group's name" };
        var noWait = new Option<bool>("--no-wait") { Description = "Print the operation and return at once; `lethe operation wait` follows it" };
        var delete = new Command("delete", "Delete a resource group and everything in it: a long-running operation, followed with a progress bar")
            { deleteName }.With(deleteSubscription, noWait, options.Server, options.Output);
        delete.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var name = run.Value(deleteName)!;
            // 202 Accepted: the answer is the operation's first status.
            var operation = await connection.Client.SendAsync<OperationStatus>(HttpMethod.Delete, Path(run.Value(deleteSubscription)!, name), null, ct);
            if (!run.Value(noWait))
            {
                return await OperationCommands.WaitAsync(run, connection, operation.Name, $"Deleting {name}", TimeSpan.FromSeconds(1), ct);
            }
            if (run.Json)
            {
                await run.WriteJsonAsync(operation);
            }
            else
            {
                await run.WriteLineAsync($"Deleting {name}: operation {operation.Name}. Follow it with `lethe operation wait {operation.Name}`.");
            }
            return ExitCodes.Success;
        });

        return Cli.Group("group", "Resource groups: what a subscription holds", list, show, create, delete);
    }

    private static string Path(string subscription, string name) => $"subscriptions/{Invocation.Segment(subscription)}/resourceGroups/{Invocation.Segment(name)}";

    private static async Task WriteAsync(Invocation run, List<ResourceGroupResource> groups, string? none)
    {
        if (run.Json)
        {
            await (none is null && groups.Count == 1 ? run.WriteJsonAsync(groups[0]) : run.WriteJsonAsync(groups));
            return;
        }
        if (groups.Count == 0 && none is not null)
        {
            await run.WriteNothingAsync(none);
            return;
        }
        var table = Invocation.Table("Name", "Location", "State", "ID");
        foreach (var g in groups)
        {
            Invocation.AddRow(table, g.Name, g.Location, g.Properties.ProvisioningState, g.Id);
        }
        run.Write(table);
    }
}
