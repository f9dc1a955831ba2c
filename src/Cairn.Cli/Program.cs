using System.CommandLine;
using Cairn.Cli;

var root = new RootCommand("Cairn: experiment tracking, model registry and pipelines for .NET, speaking MLflow's REST protocol.");
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(DbCommand.Create());
root.Subcommands.Add(ModelsCommand.Create());
root.Subcommands.Add(StudyCommand.Create());
return await root.Parse(args).InvokeAsync();
