using Lethe.Telemetry;
using Lethe.Workspaces;
using Microsoft.EntityFrameworkCore;

namespace Lethe;

public sealed partial class LetheDb
{
    public DbSet<Workspace> Workspaces => Set<Workspace>();
    public DbSet<WorkspaceMember> WorkspaceMembers => Set<WorkspaceMember>();
    public DbSet<WorkspaceAsset> WorkspaceAssets => Set<WorkspaceAsset>();
    public DbSet<ExperimentRun> ExperimentRuns => Set<ExperimentRun>();
    public DbSet<TelemetryEvent> TelemetryEvents => Set<TelemetryEvent>();
}
