using Lethe.Privacy.Requests;
using Microsoft.EntityFrameworkCore;

namespace Lethe;

public sealed partial class LetheDb
{
    public DbSet<PrivacyRequest> PrivacyRequests => Set<PrivacyRequest>();
}
