using System.CommandLine;
using System.Globalization;
using Lethe.Demo;
using Lethe.Server.Hosting;

namespace Lethe.Cli.Commands;

/// `lethe seed --scale N`: a large deterministic data set for benchmarks, written straight to the database in bulk.
internal static class SeedCommands
{
    public static Command Create(Terminal terminal, CommonOptions options)
    {
        var database = new DatabaseOptionSet();
        var scale = new Option<int>("--scale") { Description = "How many users the data set holds when done; a second run with a larger N adds the rest", Required = true, HelpName = "N" };
        scale.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 10_000_000)
            {
                r.AddError("--scale is between 1 and 10,000,000.");
            }
        });
        var seed = new Option<int>("--seed") { Description = "The random seed: the same seed gives the same data", DefaultValueFactory = _ => 1, HelpName = "SEED" };
        var historyDocuments = new Option<double>("--history-documents")
        {
            Description = "The share of job runs (0 to 1) that also get their job history document as a blob in the blob store: a blob per run would take hours at 10 million runs",
            DefaultValueFactory = _ => new ScaleOptions { Users = 0 }.HistoryDocuments,
            HelpName = "RATIO",
        };
        historyDocuments.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is not (>= 0 and <= 1))
            {
                r.AddError("--history-documents is between 0 and 1.");
            }
        });
        var command = database.AddTo(new Command("seed", $"Fill the database with a scale data set for benchmarks (migrating it first). Every scale user's password is {ScaleData.Password}"))
            .With(scale, seed, historyDocuments, options.Output);
        command.Handle(terminal, options, async (run, ct) =>
        {
            var target = DatabaseTarget.Resolve(run, database);
            await using var db = target.CreateContext();
            var migrations = await DatabaseMigration.MigrateAsync(db, ct);
            if (migrations.Count > 0 && !run.Json)
            {
                await run.WriteLineAsync($"Applied {migrations.Count} migration(s) to {target.Describe()}.");
            }
            var users = run.Value(scale);
            var blobs = DatabaseTarget.BlobStore(run, target);
            var scaleOptions = new ScaleOptions { Users = users, Seed = run.Value(seed), HistoryDocuments = run.Value(historyDocuments) };
            var result = await run.WithProgressAsync($"Seeding {users:N0} users", users, report =>
                ScaleData.RunAsync(new ScaleTarget(db, blobs, target.BulkCopy), scaleOptions, new InlineProgress<ScaleProgress>(p => report(p.UsersDone)), ct));
            var seconds = Math.Max(result.Elapsed.TotalSeconds, 0.001);
            if (run.Json)
            {
                await run.WriteJsonAsync(new
                {
                    database = target.Describe(),
                    result.UsersCreated,
                    result.TotalUsers,
                    rows = result.RowsByTable,
                    seconds = Math.Round(seconds, 3),
                    rowsPerSecond = Math.Round(result.Rows / seconds),
                });
                return ExitCodes.Success;
            }
            if (result.UsersCreated == 0)
            {
                await run.WriteLineAsync($"{target.Describe()} holds {result.TotalUsers:N0} scale users already.");
                return ExitCodes.Success;
            }
            await run.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Seeded {result.UsersCreated:N0} user{(result.UsersCreated == 1 ? "" : "s")} into {target.Describe()}: {result.Rows:N0} rows in {seconds:0.0} s ({result.Rows / seconds:N0} rows/s)."));
            var table = Invocation.Table("Table", "Rows");
            foreach (var (name, rows) in result.RowsByTable)
            {
                Invocation.AddRow(table, name, rows.ToString("N0", CultureInfo.InvariantCulture));
            }
            run.Write(table);
            return ExitCodes.Success;
        });
        return command;
    }
}
