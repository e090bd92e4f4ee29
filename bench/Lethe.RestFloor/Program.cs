// The floor under Lethe's memory at rest, for bench/rest-memory.sh: an ASP.NET Core server made of the framework pieces
// ARCHITECTURE.md builds Lethe on, with no Lethe code. `aspnet`: a minimal API answering /health. `ef`: plus EF Core on
// SQLite and ASP.NET Core Identity's API endpoints over its own tables, /health counting users. `portal`: plus Razor Pages
// (server-rendered, as Lethe's portal). Lethe's own figure minus the `portal` floor is what Lethe's code can save at most.
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

var mode = args.FirstOrDefault() ?? "portal";
if (mode is not ("aspnet" or "ef" or "portal"))
{
    await Console.Error.WriteLineAsync("usage: Lethe.RestFloor aspnet|ef|portal (Lethe__DataDirectory and ASPNETCORE_URLS from the environment)");
    return 2;
}

var builder = WebApplication.CreateBuilder(args.Skip(1).ToArray());
if (mode == "aspnet")
{
    var bare = builder.Build();
    bare.MapGet("/health", () => "Healthy");
    await bare.RunAsync();
    return 0;
}

var folder = builder.Configuration["Lethe:DataDirectory"] ?? Directory.GetCurrentDirectory();
Directory.CreateDirectory(folder);
builder.Services.AddDbContext<FloorDb>(o => o.UseSqlite($"Data Source={Path.Combine(folder, "rest-floor.db")}"));
builder.Services.AddAuthorization();
builder.Services.AddIdentityApiEndpoints<IdentityUser>().AddEntityFrameworkStores<FloorDb>();
if (mode == "portal")
{
    builder.Services.AddRazorPages();
}

var app = builder.Build();
using (var scope = app.Services.CreateScope())
{
    var db = scope.ServiceProvider.GetRequiredService<FloorDb>();
    await db.Database.EnsureCreatedAsync();
    await db.Users.CountAsync();
}
app.MapGroup("/identity").MapIdentityApi<IdentityUser>();
if (mode == "portal")
{
    app.MapRazorPages();
}
app.MapGet("/health", async (FloorDb db) => await db.Users.CountAsync() >= 0 ? "Healthy" : "Unhealthy");
await app.RunAsync();
return 0;

internal sealed class FloorDb(DbContextOptions<FloorDb> options) : IdentityDbContext<IdentityUser>(options);
