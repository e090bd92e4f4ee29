using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace Lethe.Cli.Tests;

/// The built `lethe` executable and a free loopback port, for the tests that start `lethe serve` as a process.
internal static class LetheCommand
{
    /// `lethe` beside Lethe.Cli.dll in the CLI's build output (the test project's build says where).
    public static string Executable
    {
        get
        {
            var directory = typeof(LetheCommand).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LetheCliDirectory").Value!;
            var path = Path.Combine(directory, OperatingSystem.IsWindows() ? "lethe.exe" : "lethe");
            return File.Exists(path) ? path : throw new FileNotFoundException("The lethe executable was not built.", path);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
