namespace Lethe.Server.Tests.Labs;

/// The column tables of seed 002, read from the seed file itself so that the tests follow the seed.
public static class SeedColumns
{
    public const string SeedFile = "002_5d9cc799a25ccef3.txt";

    public static IReadOnlyList<string> VirtualMachines => Table("**virtualmachines.csv** contains the following data columns");

    public static IReadOnlyList<string> Disks => Table("The data columns contained in **disks.csv**");

    private static List<string> Table(string marker)
    {
        var lines = File.ReadAllLines(Path());
        var start = Array.FindIndex(lines, l => l.Contains(marker, StringComparison.Ordinal));
        Assert.True(start >= 0, $"The seed has no table after '{marker}'.");
        var columns = new List<string>();
        var inTable = false;
        for (var i = start + 1; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (!line.StartsWith('|'))
            {
                if (inTable)
                {
                    break;
                }
                continue;
            }
            inTable = true;
            var cell = line.Trim('|').Split('|')[0].Trim();
            if (cell is "Column name" || cell.StartsWith("---", StringComparison.Ordinal))
            {
                continue;
            }
            columns.Add(cell);
        }
        return columns;
    }

    /// ../shared/seeds from the worktree, found by walking up from the test's folder.
    private static string Path()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "seeds", SeedFile);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException($"The seed {SeedFile} was not found in a shared/seeds folder above {AppContext.BaseDirectory}.");
    }
}
