using Lethe.Labs;
using Microsoft.EntityFrameworkCore;

namespace Lethe;

public sealed partial class LetheDb
{
    public DbSet<Lab> Labs => Set<Lab>();
    public DbSet<LabVirtualMachine> LabVirtualMachines => Set<LabVirtualMachine>();
    public DbSet<LabDisk> LabDisks => Set<LabDisk>();
    public DbSet<LabCost> LabCosts => Set<LabCost>();
    public DbSet<LabShutdownNotice> LabShutdownNotices => Set<LabShutdownNotice>();
}
