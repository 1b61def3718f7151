import BotformCLI

await Botform.main()
