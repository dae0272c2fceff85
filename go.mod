module github.com/runtools/runtools

go 1.26
