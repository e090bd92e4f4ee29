using Lethe.Cli;

return await Cli.RunAsync(args, Terminal.ForProcess());
