using Lethe.Server;

var app = await LetheServer.BuildAsync(args);
await app.RunAsync();

/// The entry point, visible to WebApplicationFactory in the tests.
public partial class Program;
