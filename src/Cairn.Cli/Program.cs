using System.CommandLine;
using Cairn.Cli;

var root = new RootCommand("Cairn: experiment tracking, model registry and pipelines for .NET, speaking MLflow's REST protocol.");
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(DbCommand.Create());
root.Subcommands.Add(ModelsCommand.Create());
root.Subcommands.Add(StudyCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
foreach (var command in LabCommands.Create())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
