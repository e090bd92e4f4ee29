using System.CommandLine;

namespace Lethe.Cli.Commands;

/// `lethe privacy map`: where Lethe holds personal data and what happens to it.
internal static class PrivacyCommands
{
    public static Command Create(Terminal terminal, CommonOptions options)
    {
        var map = new Command("map", "Show the personal-data map: every location that holds personal data, its fields and its erasure strategy")
            .With(options.Server, options.Output);
        map.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var response = await connection.Client.GetPersonalDataMapAsync(ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(response);
                return ExitCodes.Success;
            }
            var table = Invocation.Table("Module", "Kind", "Location", "Strategy", "Retention", "Fields");
            foreach (var l in response.Locations)
            {
                var retention = l.RetentionDays is { } days ? $"{days} days" : l.RetentionSetting ?? "";
                var fields = string.Join(", ", l.Fields.Select(f => $"{f.Name} ({f.Category}{(f.IsSubjectKey ? ", key" : "")}{(f.Export == "Omit" ? ", never exported" : "")})"));
                Invocation.AddRow(table, l.Module, l.Kind, l.Name, l.Strategy, retention, fields);
            }
            run.Write(table);
            return ExitCodes.Success;
        });
        return Cli.Group("privacy", "The privacy engine", map);
    }
}
