from coalition.cli.main import run

run()
