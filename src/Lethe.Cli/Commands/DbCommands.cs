using System.CommandLine;
using Lethe.Server.Hosting;

namespace Lethe.Cli.Commands;

/// `lethe db migrate`: applies the schema migrations explicitly, as PostgreSQL in production needs
/// (`lethe serve` migrates SQLite itself; several PostgreSQL nodes must never race to do it).
internal static class DbCommands
{
    public static Command Create(Terminal terminal, CommonOptions options)
    {
        var database = new DatabaseOptionSet();
        var migrate = database.AddTo(new Command("migrate", "Apply the pending schema migrations to the database")).With(options.Output);
        migrate.Handle(terminal, options, async (run, ct) =>
        {
            var target = DatabaseTarget.Resolve(run, database);
            await using var db = target.CreateContext();
            var applied = await DatabaseMigration.MigrateAsync(db, ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(new { database = target.Describe(), applied });
            }
            else if (applied.Count == 0)
            {
                await run.WriteLineAsync($"The database is up to date ({target.Describe()}).");
            }
            else
            {
                await run.WriteLineAsync($"Applied {applied.Count} migration{(applied.Count == 1 ? "" : "s")} to {target.Describe()}:");
                foreach (var migration in applied)
                {
                    await run.WriteLineAsync($"  {migration}");
                }
            }
            return ExitCodes.Success;
        });
        return Cli.Group("db", "The database: schema migrations", migrate);
    }
}
