using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;

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

    /// The executable with ARGS, its output redirected, finding the runtime this test runs on wherever it is installed.
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        return info;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
